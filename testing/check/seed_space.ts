// How `shardstore check` splits the seed space over machines and cores.
//
// Model: seeds are 32-bit (fast-check folds any seed to 32 bits). A run has a
// base seed B (0..2^32-1) and is shard i of N (N machines, or one machine when N = 1).
// Shard i owns the global indices g = i + N*j for j = 0, 1, 2, ...; its
// coordinator hands j out in order, one seed at a time, to whichever local
// worker is free, and local seed j is int32(B + i + N*j).
//
// Invariants:
// 1. Disjoint: two shards of the same B and N never run the same seed, as
//    long as fewer than 2^32 seeds are run in total (the space then wraps).
// 2. Covering: shards 0..N-1 running j < c together run exactly the global
//    indices 0..N*c-1, so N machines for time T test what one would in N*T.
// 3. Worker-count free: which seeds a shard runs with `--count c` does not
//    depend on its number of workers (they only change the order).
import { UsageError } from '../../src/cli/index.js';

export interface ShardSpec {
  /** 0 <= index < count. */
  readonly index: number;
  readonly count: number;
  /** Where it came from: --shard, or the environment variable that set it. */
  readonly source: string;
}

export const MAX_SHARDS = 1_000_000;
export const SINGLE_SHARD: ShardSpec = { index: 0, count: 1, source: 'default' };

/** The 32-bit seed of local seed index `j` of `shard`. */
export function seedAt(baseSeed: number, shard: ShardSpec, j: number): number {
  return toSeed32(baseSeed + globalIndex(shard, j));
}

export function globalIndex(shard: ShardSpec, j: number): number {
  return shard.index + shard.count * j;
}

/** Wraps an integer to a signed 32-bit seed (what fast-check uses). */
export function toSeed32(n: number): number {
  return Number(BigInt.asIntN(32, BigInt(n)));
}

/**
 * Base seeds are kept in 0..2^32-1, so the one printed can be pasted back
 * as `--seed N` (parseArgs would read a leading '-' as an option).
 */
export function toBaseSeed(n: number): number {
  return Number(BigInt.asUintN(32, BigInt(n)));
}

/** Parses "i/N" (0 <= i < N). Throws UsageError. */
export function parseShard(text: string, source: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new UsageError(`${source}: expected i/N (e.g. 0/4), got ${JSON.stringify(text)}`);
  return shardOf(Number(m[1]), Number(m[2]), source);
}

function shardOf(index: number, count: number, source: string): ShardSpec {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new UsageError(`${source}: shard count must be in 1..${MAX_SHARDS}, got ${count}`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new UsageError(`${source}: shard index must be in 0..${count - 1}, got ${index}`);
  }
  return { index, count, source };
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function envInt(env: NodeJS.ProcessEnv, name: string): number {
  const text = envValue(env, name) ?? '';
  if (!/^\d+$/.test(text)) throw new UsageError(`${name}: expected a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * The shard when --shard is not given, from the first that is set of:
 * SHARDSTORE_SHARD ("i/N"); AWS_BATCH_JOB_ARRAY_INDEX with
 * AWS_BATCH_JOB_ARRAY_SIZE (or SHARDSTORE_SHARDS); JOB_COMPLETION_INDEX
 * (Kubernetes indexed Job) with SHARDSTORE_SHARDS. Otherwise 0/1.
 * An index without a size is a usage error: guessing N could overlap shards.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv): ShardSpec {
  const explicit = envValue(env, 'SHARDSTORE_SHARD');
  if (explicit !== undefined) return parseShard(explicit, 'SHARDSTORE_SHARD');
  for (const [indexVar, sizeVars] of [
    ['AWS_BATCH_JOB_ARRAY_INDEX', ['AWS_BATCH_JOB_ARRAY_SIZE', 'SHARDSTORE_SHARDS']],
    ['JOB_COMPLETION_INDEX', ['SHARDSTORE_SHARDS']],
  ] as const) {
    if (envValue(env, indexVar) === undefined) continue;
    const sizeVar = sizeVars.find((v) => envValue(env, v) !== undefined);
    if (sizeVar === undefined) throw new UsageError(`${indexVar} is set but not ${sizeVars.join(' or ')}: the number of shards is needed to split the seeds`);
    return shardOf(envInt(env, indexVar), envInt(env, sizeVar), `${indexVar}/${sizeVar}`);
  }
  return SINGLE_SHARD;
}

export interface BaseSeed {
  readonly seed: number;
  /** --seed, SHARDSTORE_SEED, AWS_BATCH_JOB_ID or random. */
  readonly source: string;
}

/**
 * The base seed: --seed; else SHARDSTORE_SEED (an integer, or any text, such
 * as a Job's UID, hashed to 32 bits); else the parent id of an AWS Batch job
 * (the part of AWS_BATCH_JOB_ID before ':', shared by every child), hashed;
 * else random. Shards of one run must share it, so a sharded run with no
 * shared source is a usage error.
 */
export function resolveBaseSeed(flag: string | undefined, env: NodeJS.ProcessEnv, shard: ShardSpec, random: () => number): BaseSeed {
  if (flag !== undefined) return { seed: parseSeed(flag, '--seed'), source: '--seed' };
  const fromEnv = envValue(env, 'SHARDSTORE_SEED');
  if (fromEnv !== undefined) {
    return { seed: /^-?\d+$/.test(fromEnv) ? parseSeed(fromEnv, 'SHARDSTORE_SEED') : hashSeed(fromEnv), source: 'SHARDSTORE_SEED' };
  }
  const batchJob = envValue(env, 'AWS_BATCH_JOB_ID');
  if (batchJob !== undefined) return { seed: hashSeed(batchJob.split(':')[0] ?? batchJob), source: 'AWS_BATCH_JOB_ID' };
  if (shard.count > 1) {
    throw new UsageError(`shard ${shard.index}/${shard.count}: shards must share a base seed; pass --seed or SHARDSTORE_SEED`);
  }
  return { seed: toBaseSeed(random()), source: 'random' };
}

/** An integer base seed, taken modulo 2^32. Throws UsageError. */
export function parseSeed(text: string, what: string): number {
  const value = /^\s*-?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${what}: expected an integer, got ${JSON.stringify(text)}`);
  return toBaseSeed(value);
}

/** FNV-1a over the UTF-8 bytes, as a base seed. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}
