// A mistake in how the command was called: the CLI prints it with a hint
// to use --help and exits 2 (1 is for failures while running).
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
