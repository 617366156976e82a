/** A failure the user can act on: printed as one line, with its own exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const EXIT = {
  usage: 2,
  notPaired: 2,
  unreachable: 3,
  refused: 4,
  stopped: 5,
  sensor: 6,
} as const;
