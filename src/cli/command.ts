// What a subcommand looks like to the dispatcher in main.ts.
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** node's own arguments (process.execArgv), where the entry point passes them: serve warns without SERVE_NODE_FLAGS (node_flags.ts). */
  readonly execArgv?: readonly string[];
}

export interface Command {
  /** One line for the command list of `shardstore --help`. */
  readonly summary: string;
  /** Full help of the command. */
  readonly help: () => string;
  /** Runs with the arguments after the command name; resolves with the exit code. Throws UsageError. */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}
