// The flags of node that `shardstore serve` is meant to run under. V8 takes
// them only on node's command line (not from NODE_OPTIONS, and
// v8.setFlagsFromString after start changes nothing), so `npm start` passes
// them and serve warns when it was started without them.
//
// --initial-old-space-size=128: a floor of 128 MB under the old
// generation's allocation limit. A store's JavaScript heap is small (8-15
// MB with a few thousand keys), and V8 sets the limit a few MB above the
// live heap; each large value a get reads is a fresh buffer outside that
// heap, and with the limit that close V8 ran a full mark-compact every
// 20-odd 1 MiB gets. Measured on node 20.20 (the 2-core bench VM), 3,000
// random gets of 1 MiB values in a store of 512: 130-150 mark-compacts and
// 240-300 us of collector pauses per get without the flag, 16-25 and
// 63-73 us with a floor of 64, 128 or 256 MB (none changed at 32); gets/s
// 1.76x (docs/BENCHMARKS.md, "2026-12-08: the garbage collector and large
// values"). The cost: the heap may grow to 128 MB before its first full
// collection, beside a buffer cache of 256 MiB by default.
export const SERVE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/**
 * The flags of SERVE_NODE_FLAGS that `execArgv` (node's own arguments,
 * process.execArgv) does not set. A flag given with another value counts as
 * set: that is the operator's choice. V8 accepts '_' for '-' in a flag's
 * name, so either spelling counts.
 */
export function missingServeNodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(flagName));
  return SERVE_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/** `--initial_old_space_size=64` -> `--initial-old-space-size`. */
function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return (eq < 0 ? arg : arg.slice(0, eq)).replaceAll('_', '-');
}
