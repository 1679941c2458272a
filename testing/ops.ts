// The operation alphabet of the conformance checks, its biased generators,
// and a readable printing of a sequence (what a failure shows).
//
// Bias (SYSTEM.md section 2): keys come mostly from a small pool with shared
// prefixes, so gets and deletes mostly hit keys that were put and listings
// cross them; sizes cluster around the page size and the chunk-size
// boundaries of the configuration under test.
import fc from 'fast-check';

export type Op =
  | { readonly op: 'put'; readonly key: number; readonly size: number; readonly fill: number; readonly streamed: boolean }
  | { readonly op: 'get'; readonly key: number }
  | { readonly op: 'read'; readonly key: number; readonly start: number; readonly length: number }
  | { readonly op: 'head'; readonly key: number }
  | { readonly op: 'delete'; readonly key: number }
  | { readonly op: 'list'; readonly prefix: number; readonly startAfter: number; readonly limit: number }
  | { readonly op: 'commit' }
  | { readonly op: 'flush' }
  | { readonly op: 'compact' }
  | { readonly op: 'reclaim' }
  | { readonly op: 'checkpoint' }
  | { readonly op: 'reboot' }
  | {
      readonly op: 'dirtyReboot';
      /** What happens to writes not yet flushed. */
      readonly mode: 'drop-all' | 'keep-all' | 'subset' | 'torn';
      /** Write the memtable out (index flush) before the crash. */
      readonly flushFirst: boolean;
      /** Work in flight when the crash hits; it gets `afterIos` disk IOs done first. */
      readonly during: 'none' | 'put' | 'putTogether' | 'commit' | 'flush' | 'compact' | 'reclaim' | 'checkpoint';
      readonly afterIos: number;
      /** The crash image's random choices. */
      readonly crashSeed: number;
    }
  | {
      readonly op: 'fault';
      /**
       * once: the next matching IO fails; permanent: every one does; bitflip:
       * media damage; host-full: the host file system has no free block
       * left (first writes to a block fail with ENOSPC) until a heal.
       */
      readonly kind: 'read-once' | 'write-once' | 'flush-once' | 'read-permanent' | 'bitflip' | 'host-full';
      /** Picks an extent among those in use (modulo their count). */
      readonly extentPick: number;
      /** Picks a byte below the write pointer (bit flips). */
      readonly offsetPick: number;
    }
  | { readonly op: 'heal' }
  | {
      readonly op: 'scrubPass';
      /** The disk fails every read from the n-th read of the pass on (-1: it does not fail). */
      readonly failAfterReads: number;
    };

/** Key pool: shared prefixes, a binary key, a long key. Index KEY_POOL.length+ means "a fresh key". */
export const KEY_POOL: readonly Buffer[] = [
  Buffer.from('a'),
  Buffer.from('ab'),
  Buffer.from('abc'),
  Buffer.from('abd'),
  Buffer.from('b'),
  Buffer.from('b/1'),
  Buffer.from('b/2'),
  Buffer.from([0x00]),
  Buffer.from([0xff, 0x00, 0xff]),
  Buffer.alloc(300, 0x6b),
];

export const PREFIX_POOL: readonly Buffer[] = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('ab'), Buffer.from('b/'), Buffer.from('z')];

export function keyOf(k: number): Buffer {
  return KEY_POOL[k] ?? Buffer.from(`fresh-${k}`);
}

export interface SizeProfile {
  readonly pageSizeBytes: number;
  readonly maxChunkDataBytes: number;
}

/** Sizes near 0, the page size and chunk boundaries, and a few random ones. */
export function sizeArb(p: SizeProfile): fc.Arbitrary<number> {
  const near = (n: number): fc.Arbitrary<number> => fc.integer({ min: Math.max(0, n - 2), max: n + 2 });
  return fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 }) },
    { weight: 2, arbitrary: near(p.pageSizeBytes) },
    { weight: 2, arbitrary: near(p.maxChunkDataBytes) },
    { weight: 1, arbitrary: near(2 * p.maxChunkDataBytes) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 * p.maxChunkDataBytes }) },
  );
}

const poolKeyArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: KEY_POOL.length - 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: KEY_POOL.length, max: KEY_POOL.length + 1000 }) },
);

export interface AlphabetWeights {
  readonly put: number;
  readonly read: number;
  readonly delete: number;
  readonly list: number;
  readonly background: number;
  readonly reboot: number;
}

export const DEFAULT_WEIGHTS: AlphabetWeights = { put: 8, read: 8, delete: 3, list: 2, background: 4, reboot: 1 };

/** Where an alphabet draws its keys and its put sizes from, when not the pool (poolKeyArb) and sizeArb (the space suite: overwrites of larger values). */
export interface AlphabetDraws {
  readonly key?: fc.Arbitrary<number>;
  readonly size?: fc.Arbitrary<number>;
}

export function opArb(p: SizeProfile, w: AlphabetWeights = DEFAULT_WEIGHTS, draws: AlphabetDraws = {}): fc.Arbitrary<Op> {
  const keyArb = draws.key ?? poolKeyArb;
  const put = fc.record({
    op: fc.constant('put' as const),
    key: keyArb,
    size: draws.size ?? sizeArb(p),
    fill: fc.integer({ min: 0, max: 0xffff }),
    streamed: fc.boolean(),
  });
  const read = fc.oneof(
    fc.record({ op: fc.constant('get' as const), key: keyArb }),
    fc.record({ op: fc.constant('head' as const), key: keyArb }),
    fc.record({
      op: fc.constant('read' as const),
      key: keyArb,
      start: fc.oneof(fc.integer({ min: 0, max: 8 }), sizeArb(p)),
      length: fc.oneof(fc.integer({ min: 0, max: 8 }), sizeArb(p)),
    }),
  );
  const list = fc.record({
    op: fc.constant('list' as const),
    prefix: fc.integer({ min: 0, max: PREFIX_POOL.length - 1 }),
    startAfter: fc.integer({ min: -1, max: KEY_POOL.length - 1 }),
    limit: fc.integer({ min: 1, max: 6 }),
  });
  const background = fc.constantFrom<Op>({ op: 'commit' }, { op: 'flush' }, { op: 'compact' }, { op: 'reclaim' }, { op: 'checkpoint' });
  return fc.oneof(
    { weight: w.put, arbitrary: put },
    { weight: w.read, arbitrary: read },
    { weight: w.delete, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
    { weight: w.list, arbitrary: list },
    { weight: w.background, arbitrary: background },
    { weight: w.reboot, arbitrary: fc.constant<Op>({ op: 'reboot' }) },
  );
}

export const dirtyRebootArb: fc.Arbitrary<Op> = fc.record({
  op: fc.constant('dirtyReboot' as const),
  mode: fc.constantFrom('drop-all' as const, 'keep-all' as const, 'subset' as const, 'torn' as const),
  flushFirst: fc.boolean(),
  during: fc.constantFrom(
    'none' as const,
    'put' as const,
    'putTogether' as const,
    'commit' as const,
    'flush' as const,
    'compact' as const,
    'reclaim' as const,
    'checkpoint' as const,
  ),
  afterIos: fc.integer({ min: 0, max: 12 }),
  crashSeed: fc.integer({ min: 0, max: 0xffff }),
});

export const faultArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('fault' as const),
      kind: fc.constantFrom('read-once' as const, 'write-once' as const, 'flush-once' as const, 'read-permanent' as const, 'bitflip' as const, 'host-full' as const),
      extentPick: fc.nat({ max: 1000 }),
      offsetPick: fc.nat({ max: 1 << 30 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'heal' }) },
);

/** The fault alphabet: the crash alphabet plus injected IO errors and bit flips. */
export function faultOpArb(p: SizeProfile): fc.Arbitrary<Op> {
  return fc.oneof({ weight: 20, arbitrary: opArb(p) }, { weight: 2, arbitrary: dirtyRebootArb }, { weight: 3, arbitrary: faultArb });
}

/** The fault alphabet plus scrub passes, some of them with the disk failing part way. */
export function scrubFaultOpArb(p: SizeProfile): fc.Arbitrary<Op> {
  const scrub = fc.record({
    op: fc.constant('scrubPass' as const),
    failAfterReads: fc.oneof({ weight: 2, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) }),
  });
  return fc.oneof({ weight: 6, arbitrary: faultOpArb(p) }, { weight: 1, arbitrary: scrub });
}

/** The crash alphabet: the conformance alphabet plus dirty reboots. */
export function crashOpArb(p: SizeProfile, crashWeight = 2): fc.Arbitrary<Op> {
  return fc.oneof({ weight: 20, arbitrary: opArb(p) }, { weight: crashWeight, arbitrary: dirtyRebootArb });
}

/** Values made lately, by (size, fill): the model and the engine each ask for the same one. */
const recentValues = new Map<string, Buffer>();
const RECENT_VALUES_MAX_BYTES = 4 * 1024 * 1024;
let recentValuesBytes = 0;

/**
 * The value a put writes: a pattern fixed by (fill, size), so ops stay
 * small. Each call returns a fresh copy: a caller that changes its buffer
 * changes no other caller's.
 */
export function valueOf(size: number, fill: number): Buffer {
  const id = `${size}:${fill}`;
  let value = recentValues.get(id);
  if (value === undefined) {
    if (recentValuesBytes + size > RECENT_VALUES_MAX_BYTES) {
      recentValues.clear();
      recentValuesBytes = 0;
    }
    value = makeValue(size, fill);
    recentValues.set(id, value);
    recentValuesBytes += size;
  }
  const copy = Buffer.allocUnsafe(size);
  copy.set(value);
  return copy;
}

/** xorshift32 from a seed made of `fill`, four bytes a step (a byte a step cost 2% of a check). */
function makeValue(size: number, fill: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = (fill * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, size);
}

function keyText(k: number): string {
  const key = keyOf(k);
  return key.length > 12 ? `${key.subarray(0, 4).toString('hex')}..(${key.length}B)` : JSON.stringify(key.toString('latin1'));
}

export function formatOp(o: Op): string {
  switch (o.op) {
    case 'put':
      return `put(${keyText(o.key)}, ${o.size}B#${o.fill}${o.streamed ? ', streamed' : ''})`;
    case 'get':
    case 'head':
    case 'delete':
      return `${o.op}(${keyText(o.key)})`;
    case 'read':
      return `read(${keyText(o.key)}, ${o.start}..+${o.length})`;
    case 'dirtyReboot':
      return `dirtyReboot(${o.mode}${o.flushFirst ? ', after index flush' : ''}${o.during === 'none' ? '' : `, during ${o.during} after ${o.afterIos} IOs`}, crash#${o.crashSeed})`;
    case 'scrubPass':
      return `scrubPass(${o.failAfterReads < 0 ? '' : `disk fails after ${o.failAfterReads} reads`})`;
    case 'fault':
      return `fault(${o.kind}, extent#${o.extentPick}${o.kind === 'bitflip' ? `, byte#${o.offsetPick}` : ''})`;
    case 'list':
      return `list(prefix=${JSON.stringify(PREFIX_POOL[o.prefix]?.toString('latin1'))}, after=${o.startAfter < 0 ? '-' : keyText(o.startAfter)}, limit=${o.limit})`;
    default:
      return `${o.op}()`;
  }
}

export function formatOps(ops: readonly Op[]): string {
  return ops.map((o, i) => `  ${String(i).padStart(3)}: ${formatOp(o)}`).join('\n');
}

// ---------------------------------------------------------------- the node's control plane

/**
 * Control-plane operations on a node of NODE_DISKS disks (testing/node_harness.ts):
 * bulk calls, disks leaving and returning, paginated and partial listings,
 * scrub, stats, export and import (whole, cut short, or with a flipped byte).
 */
export type ControlOp =
  | { readonly op: 'bulkPut'; readonly keys: readonly number[]; readonly size: number; readonly fill: number }
  | { readonly op: 'bulkDelete'; readonly keys: readonly number[] }
  | { readonly op: 'diskOut'; readonly disk: number }
  | { readonly op: 'diskIn'; readonly disk: number }
  | { readonly op: 'listPages'; readonly prefix: number; readonly pageLimit: number }
  | { readonly op: 'listAvailable'; readonly prefix: number; readonly startAfter: number; readonly limit: number }
  | { readonly op: 'scrub' }
  | { readonly op: 'stats' }
  | { readonly op: 'export'; readonly prefix: number; readonly start: number; readonly end: number; readonly startAfter: number }
  | {
      readonly op: 'import';
      readonly keys: readonly number[];
      readonly size: number;
      readonly fill: number;
      /** Permille of the stream's bytes delivered (1000: all of it). */
      readonly cutPermille: number;
      /** Permille position of a flipped byte, or -1 for none. */
      readonly flipPermille: number;
    }
  | { readonly op: 'restart'; readonly keepOut: boolean }
  /** Another process opens one disk while the node runs: a second server, or a tool (read-only). */
  | { readonly op: 'secondOpen'; readonly disk: number; readonly readOnly: boolean }
  /** The node stops (dirty: its process dies, every write kept) and fsck, inspect, scrub, export run on its disks. */
  | { readonly op: 'offlineTools'; readonly dirty: boolean };

/** A crash of the whole node (every disk loses what it did not flush). */
export interface NodeCrashOp {
  readonly op: 'nodeCrash';
  readonly mode: 'drop-all' | 'keep-all' | 'subset' | 'torn';
  /** Work in flight at the crash. */
  readonly during: 'none' | 'bulkDelete' | 'bulkPut' | 'import' | 'diskOut';
  /** A disk whose writes stay in flight (never complete) until the crash, or -1. */
  readonly pauseDisk: number;
  /** Disk IOs completed (on the other disks) after the work started, before the crash. */
  readonly afterIos: number;
  readonly keys: readonly number[];
  readonly crashSeed: number;
  /** Disks out of service before the crash stay out after it. */
  readonly keepOut: boolean;
}

export type NodeOp = Op | ControlOp | NodeCrashOp;

export const NODE_DISKS = 2;

const keySetArb = fc.uniqueArray(fc.integer({ min: 0, max: KEY_POOL.length + 5 }), { minLength: 1, maxLength: 6 });
const boundArb = fc.integer({ min: -1, max: KEY_POOL.length - 1 });

export function controlOpArb(p: SizeProfile): fc.Arbitrary<ControlOp> {
  const disk = fc.integer({ min: 0, max: NODE_DISKS - 1 });
  const prefix = fc.integer({ min: 0, max: PREFIX_POOL.length - 1 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('bulkPut' as const), keys: keySetArb, size: sizeArb(p), fill: fc.nat({ max: 0xffff }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('bulkDelete' as const), keys: keySetArb }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('diskOut' as const), disk }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('diskIn' as const), disk }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('listPages' as const), prefix, pageLimit: fc.integer({ min: 1, max: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('listAvailable' as const), prefix, startAfter: boundArb, limit: fc.integer({ min: 1, max: 6 }) }) },
    { weight: 1, arbitrary: fc.constant<ControlOp>({ op: 'scrub' }) },
    { weight: 1, arbitrary: fc.constant<ControlOp>({ op: 'stats' }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('export' as const), prefix, start: boundArb, end: boundArb, startAfter: boundArb }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('import' as const),
        keys: keySetArb,
        size: sizeArb(p),
        fill: fc.nat({ max: 0xffff }),
        cutPermille: fc.oneof({ weight: 3, arbitrary: fc.constant(1000) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }) }),
        flipPermille: fc.oneof({ weight: 4, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }) }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const), keepOut: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('secondOpen' as const), disk, readOnly: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('offlineTools' as const), dirty: fc.boolean() }) },
  );
}

/** The node conformance alphabet: the single-disk alphabet plus the control plane. */
export function nodeOpArb(p: SizeProfile): fc.Arbitrary<NodeOp> {
  return fc.oneof({ weight: 3, arbitrary: opArb(p) }, { weight: 2, arbitrary: controlOpArb(p) });
}

export const nodeCrashArb: fc.Arbitrary<NodeCrashOp> = fc.record({
  op: fc.constant('nodeCrash' as const),
  mode: fc.constantFrom('drop-all' as const, 'keep-all' as const, 'subset' as const, 'torn' as const),
  during: fc.constantFrom('none' as const, 'bulkDelete' as const, 'bulkPut' as const, 'import' as const, 'diskOut' as const),
  pauseDisk: fc.integer({ min: -1, max: NODE_DISKS - 1 }),
  afterIos: fc.integer({ min: 0, max: 8 }),
  keys: keySetArb,
  crashSeed: fc.nat({ max: 0xffff }),
  keepOut: fc.boolean(),
});

/** The node crash alphabet: mutations, control plane and whole-node crashes. */
export function nodeCrashOpArb(p: SizeProfile): fc.Arbitrary<NodeOp> {
  const mutations = fc.oneof(
    fc.record({ op: fc.constant('put' as const), key: poolKeyArb, size: sizeArb(p), fill: fc.integer({ min: 0, max: 0xffff }), streamed: fc.constant(false) }),
    fc.record({ op: fc.constant('delete' as const), key: poolKeyArb }),
    fc.record({ op: fc.constant('get' as const), key: poolKeyArb }),
  );
  return fc.oneof(
    { weight: 6, arbitrary: mutations },
    { weight: 4, arbitrary: controlOpArb(p) },
    { weight: 1, arbitrary: fc.constantFrom<Op>({ op: 'commit' }, { op: 'flush' }, { op: 'compact' }) },
    { weight: 3, arbitrary: nodeCrashArb },
  );
}

function keysText(keys: readonly number[]): string {
  return `[${keys.map(keyText).join(', ')}]`;
}

function boundText(b: number): string {
  return b < 0 ? '-' : keyText(b);
}

export function formatNodeOp(o: NodeOp): string {
  switch (o.op) {
    case 'bulkPut':
      return `bulkPut(${keysText(o.keys)}, ${o.size}B#${o.fill})`;
    case 'bulkDelete':
      return `bulkDelete(${keysText(o.keys)})`;
    case 'diskOut':
    case 'diskIn':
      return `${o.op}(${o.disk})`;
    case 'listPages':
      return `listPages(prefix=${JSON.stringify(PREFIX_POOL[o.prefix]?.toString('latin1'))}, pages of ${o.pageLimit})`;
    case 'listAvailable':
      return `listAvailable(prefix=${JSON.stringify(PREFIX_POOL[o.prefix]?.toString('latin1'))}, after=${boundText(o.startAfter)}, limit=${o.limit})`;
    case 'export':
      return `export(prefix=${JSON.stringify(PREFIX_POOL[o.prefix]?.toString('latin1'))}, start=${boundText(o.start)}, end=${boundText(o.end)}, after=${boundText(o.startAfter)})`;
    case 'import':
      return `import(${keysText(o.keys)}, ${o.size}B#${o.fill}${o.cutPermille < 1000 ? `, cut at ${o.cutPermille}‰` : ''}${o.flipPermille >= 0 ? `, byte flipped at ${o.flipPermille}‰` : ''})`;
    case 'scrub':
    case 'stats':
      return `${o.op}()`;
    case 'restart':
      return `restart(${o.keepOut ? 'disks out stay out' : 'every disk'})`;
    case 'secondOpen':
      return `secondOpen(disk ${o.disk} by another ${o.readOnly ? 'tool' : 'server'})`;
    case 'offlineTools':
      return `offlineTools(after a ${o.dirty ? 'dirty' : 'clean'} stop)`;
    case 'nodeCrash':
      return `nodeCrash(${o.mode}${o.during === 'none' ? '' : `, during ${o.during}${o.during === 'diskOut' ? '' : ` ${keysText(o.keys)}`}`}${o.pauseDisk >= 0 ? `, disk ${o.pauseDisk} writes held` : ''}, after ${o.afterIos} IOs, crash#${o.crashSeed}${o.keepOut ? ', disks out stay out' : ''})`;
    default:
      return formatOp(o);
  }
}

export function formatNodeOps(ops: readonly NodeOp[]): string {
  return ops.map((o, i) => `  ${String(i).padStart(3)}: ${formatNodeOp(o)}`).join('\n');
}
