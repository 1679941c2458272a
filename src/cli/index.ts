// cli: the `shardstore` command line (production entry: main.ts; the bin,
// bin/shardstore.ts, adds the validation commands through runCli's `extra`).
export { runCli, usage } from './cli.js';
export type { CommandEntry, CommandTable } from './cli.js';
export type { CliIo, Command } from './command.js';
export { DEFAULT_PORT, envName, parseServeArgs, serveHelp } from './serve_options.js';
export type { ServeConfig } from './serve_options.js';
export { serveApi, stopOnSignal, urlOf } from './serve_lifecycle.js';
export type { ServeIo } from './serve_lifecycle.js';
export { formatDurationMs, formatSizeBytes, parseDurationMs, parseSizeBytes } from './units.js';
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './usage_error.js';
export { SERVE_NODE_FLAGS, missingServeNodeFlags } from './node_flags.js';
export { closedLoop, percentile, MAX_LATENCY_SAMPLES } from './closed_loop.js';
export type { ClosedLoopOptions, ClosedLoopResult } from './closed_loop.js';
