import { DomainError } from '../errors.js';

/** What a caller accepts of a chunked answer of JSON lines before it gives up on it. */
export interface JsonLinesBounds {
  /** Bytes of the whole answer (UTF-8, newlines included). */
  maxBytes: number;
  /** Lines (entries) of the whole answer. */
  maxEntries: number;
}

/** One JSON value a line: the text of a chunked answer that a caller reassembles whole (see requestChunks). */
export function jsonLines(values: readonly unknown[]): string {
  // JSON.stringify escapes every newline inside strings: a raw '\n' only ever ends a value.
  let text = '';
  for (const value of values) text += `${JSON.stringify(value)}\n`;
  return text;
}

/**
 * Reassembles a chunked answer of JSON lines (chunks are cut anywhere, even inside a UTF-8
 * character). Every line goes through `accept`, which returns the entry or undefined for one
 * that is not what the responder should send. Anything wrong — bytes that are not UTF-8, a
 * line that is not JSON or not accepted, an answer past its bounds — ends the request (the
 * responder is told to stop) and is a SERVICE_UNAVAILABLE naming `what` and the problem.
 */
export async function collectJsonLines<T>(
  chunks: AsyncIterable<Uint8Array>,
  what: string,
  bounds: JsonLinesBounds,
  accept: (value: unknown) => T | undefined,
): Promise<T[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const entries: T[] = [];
  let bytes = 0;
  let pending = '';
  const take = (line: string) => {
    if (line === '') return;
    if (entries.length >= bounds.maxEntries) {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        `${what} has more than ${bounds.maxEntries} entries, more than this server answers at once`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new DomainError('SERVICE_UNAVAILABLE', `${what} came back malformed (entry ${entries.length} is not JSON); retry later`);
    }
    const entry = accept(value);
    if (entry === undefined) {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        `${what} came back malformed (entry ${entries.length} is not a valid entry); retry later`,
      );
    }
    entries.push(entry);
  };
  for await (const chunk of chunks) {
    bytes += chunk.byteLength;
    if (bytes > bounds.maxBytes) {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        `${what} is larger than ${bounds.maxBytes} bytes, more than this server answers at once`,
      );
    }
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new DomainError('SERVICE_UNAVAILABLE', `${what} came back malformed (not UTF-8); retry later`);
    }
    // Only the new text is searched, so one endless line costs its length, not its square.
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      take(pending + text.slice(start, end));
      pending = '';
      start = end + 1;
    }
    pending += text.slice(start);
  }
  try {
    pending += decoder.decode();
  } catch {
    throw new DomainError('SERVICE_UNAVAILABLE', `${what} came back malformed (not UTF-8); retry later`);
  }
  take(pending);
  return entries;
}
