// The suites `shardstore check` knows, by name. A suite is loaded only when a
// run selects it, so `--help` and `--list-mutants` load no storage code.
//
// To register a suite (crash, faults, fuzz, concurrency, http), add one row: the
// name must match the suite's `name` (it is the first field of its tokens).
import type { Suite } from './suite.js';

export interface SuiteEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Suite>;
}

export const SUITES: readonly SuiteEntry[] = [
  {
    name: 'conformance',
    summary: 'random operation sequences against the reference model, results compared at every step',
    load: async (): Promise<Suite> => (await import('./conformance_suite.js')).conformanceSuite,
  },
  {
    name: 'crash',
    summary: 'sequences with dirty reboots (writes dropped, kept, a subset, torn), checked for persistence and atomicity',
    load: async (): Promise<Suite> => (await import('./crash_suite.js')).crashSuite,
  },
  {
    name: 'faults',
    summary: 'sequences with injected read/write/flush errors and bit flips: typed errors, never wrong bytes, nothing unaffected lost',
    load: async (): Promise<Suite> => (await import('./faults_suite.js')).faultsSuite,
  },
  {
    name: 'concurrency',
    summary: 'clients racing background work under random and PCT schedules (crashes included), histories checked for linearizability',
    load: async (): Promise<Suite> => (await import('./concurrency_suite.js')).concurrencySuite,
  },
  {
    name: 'node',
    summary: 'a node of two disks against the model with the control plane: bulk calls, disks out and in, listings, scrub, export/import',
    load: async (): Promise<Suite> => (await import('./node_suites.js')).nodeConformanceSuite,
  },
  {
    name: 'node-crash',
    summary: 'whole-node crashes during bulk calls, imports and disks leaving service; disks returning after a crash',
    load: async (): Promise<Suite> => (await import('./node_suites.js')).nodeCrashSuite,
  },
  {
    name: 'control-race',
    summary: 'control-plane calls (disk out/in, bulk, scrub, export/import, reclaim, compaction) racing puts, deletes and streamed reads on a node, under random and PCT schedules: linearizable, Unavailable or nothing, progress after',
    load: async (): Promise<Suite> => (await import('./control_race_suite.js')).controlRaceSuite,
  },
  {
    name: 'scrub-faults',
    summary: 'the fault alphabet plus scrub passes, the disk failing part way: no false alarm, no missed damaged shard',
    load: async (): Promise<Suite> => (await import('./scrub_faults_suite.js')).scrubFaultsSuite,
  },
  {
    name: 'metadata-faults',
    summary: 'bit flips and unreadable sectors in the label, checkpoints, log records and run chunks, after clean and dirty reboots: never silently absent, fsck reports, tools never write',
    load: async (): Promise<Suite> => (await import('./metadata_faults_suite.js')).metaFaultsSuite,
  },
  {
    name: 'mirror',
    summary: 'every chunk of every LSM run damaged in one copy, then both, and each index extent unreadable: served from the other copy, or a typed error',
    load: async (): Promise<Suite> => (await import('./mirror_suite.js')).mirrorSuite,
  },
  {
    name: 'fuzz',
    summary: 'every on-disk and request decoder fed random and mutated bytes: a value or a typed error',
    load: async (): Promise<Suite> => (await import('./fuzz_suite.js')).fuzzSuite,
  },
  {
    name: 'http',
    summary: 'the server attacked with well-formed and hostile requests (unsigned headers, every subresource, smuggling, no credentials, browsers): refused as the model says, nothing changed, every answer well-formed',
    load: async (): Promise<Suite> => (await import('./http_suite.js')).httpSuite,
  },
  {
    name: 's3-crash',
    summary: 'the S3 front on two disks: a collector pass while an overwrite or delete is staged and not durable (objects whose data is on the other disk than the record), then a power cut: the object reads whole',
    load: async (): Promise<Suite> => (await import('./s3_crash_suite.js')).s3CrashSuite,
  },
  {
    name: 'lifecycle',
    summary: 'the S3 lifecycle pass on a virtual clock against a model of S3\'s rules, with PUTs racing it: nothing expired that no rule expires, everything due expired, an object overwritten meanwhile kept',
    load: async (): Promise<Suite> => (await import('./lifecycle_suite.js')).lifecycleSuite,
  },
  {
    name: 'space',
    summary: 'overwrites filling a small disk several times over, with crashes: puts make room by reclamation, refused NoSpace only when live data exceeds a quarter of the disk, nothing acknowledged lost',
    load: async (): Promise<Suite> => (await import('./space_suite.js')).spaceSuite,
  },
];

export function suiteNames(): string[] {
  return SUITES.map((s) => s.name);
}

/** The named suite; throws RangeError for an unknown name. */
export async function loadSuite(name: string): Promise<Suite> {
  const entry = SUITES.find((s) => s.name === name);
  if (entry === undefined) throw new RangeError(`unknown suite ${JSON.stringify(name)} (known: ${suiteNames().join(', ')})`);
  const suite = await entry.load();
  if (suite.name !== name) throw new Error(`suite registered as ${name} calls itself ${suite.name}`);
  return suite;
}
