/* The syntax error the readers of a line throw, and how its messages quote the line's text. */

const SPACE = 32;
const COMMA = 44;
const EQUALS = 61;

/**
 * Thrown inside one line's parse, caught per line. `at` is an index in the body: the catch,
 * which knows where the line starts, turns it into a column, so the readers need not know.
 * Not an Error: no stack is captured, as hostile bodies may have an error on every line.
 */
export class LineSyntaxError {
  constructor(
    readonly at: number,
    readonly what: string,
  ) {}
}

export function fail(at: number, what: string): never {
  throw new LineSyntaxError(at, what);
}

/** A quoted, shortened excerpt of user text for an error message. */
export function excerpt(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

export function describeChar(code: number): string {
  if (Number.isNaN(code)) return 'the end of the line';
  if (code === SPACE) return 'a space';
  if (code === COMMA) return "','";
  if (code === EQUALS) return "'='";
  return excerpt(String.fromCharCode(code));
}
