// Options of `shardstore check`: argv and the environment in, one request out
// (run, replay, list mutants, or help). Pure but for the defaults passed in,
// so tests can check every rule without running anything.
//
// Precedence for the shard and the base seed: flag, then environment
// (seed_space.ts), then the default.
import { parseArgs } from 'node:util';
import { UsageError, formatDurationMs, parseDurationMs } from '../../src/cli/index.js';
import { mutantNamed, mutantNames } from './mutant_registry.js';
import { suiteNames } from './registry.js';
import { parseShard, resolveBaseSeed, shardFromEnv } from './seed_space.js';
import type { ShardSpec } from './seed_space.js';

export const DEFAULT_TIME_MS = 60_000;
export const DEFAULT_SEED_TIMEOUT_MS = 120_000;
export const DEFAULT_OUT_DIR = './.check/failures';
export const MAX_WORKERS = 256;
export const MAX_COUNT = 1_000_000_000;

export type Budget = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'count'; readonly seeds: number };

export interface CheckOptions {
  readonly budget: Budget;
  readonly suites: readonly string[];
  readonly baseSeed: number;
  readonly baseSeedSource: string;
  readonly workers: number;
  readonly shard: ShardSpec;
  readonly json: boolean;
  readonly outDir: string;
  readonly mutant?: string;
  readonly stopOnFailure: boolean;
  /** A seed running longer is a failure (a hang) and its worker is replaced; below the budget (seedTimeoutFor). */
  readonly seedTimeoutMs: number;
}

export type CheckRequest =
  | { readonly kind: 'help' }
  | { readonly kind: 'list-mutants'; readonly json: boolean }
  | { readonly kind: 'replay'; readonly target: string; readonly mutant?: string; readonly json: boolean }
  | { readonly kind: 'run'; readonly options: CheckOptions };

export interface CheckDefaults {
  readonly cpus: number;
  /** A random integer for the base seed. */
  readonly random: () => number;
}

const FLAGS = {
  time: { type: 'string' },
  count: { type: 'string' },
  suite: { type: 'string', multiple: true },
  seed: { type: 'string' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  replay: { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  mutant: { type: 'string' },
  'list-mutants': { type: 'boolean' },
  'stop-on-failure': { type: 'boolean' },
  'keep-going': { type: 'boolean' },
  'seed-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface FlagConfig {
  options: typeof FLAGS;
  strict: true;
  allowPositionals: false;
}
type Flags = ReturnType<typeof parseArgs<FlagConfig>>['values'];

function parseFlags(argv: readonly string[]): Flags {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed flags.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Parses the arguments after `check`. Throws UsageError. */
export function parseCheckArgs(argv: readonly string[], env: NodeJS.ProcessEnv, defaults: CheckDefaults): CheckRequest {
  const flags = parseFlags(argv);
  if (flags.help === true) return { kind: 'help' };
  const json = flags.json === true;
  if (flags['list-mutants'] === true) return { kind: 'list-mutants', json };
  const mutant = flags.mutant === undefined ? undefined : checkedMutant(flags.mutant);
  if (flags.replay !== undefined) return { kind: 'replay', target: flags.replay, json, ...(mutant === undefined ? {} : { mutant }) };
  return { kind: 'run', options: runOptions(flags, env, defaults, mutant) };
}

function runOptions(flags: Flags, env: NodeJS.ProcessEnv, defaults: CheckDefaults, mutant: string | undefined): CheckOptions {
  const shard = flags.shard === undefined ? shardFromEnv(env) : parseShard(flags.shard, '--shard');
  const base = resolveBaseSeed(flags.seed, env, shard, defaults.random);
  if (flags['stop-on-failure'] === true && flags['keep-going'] === true) throw new UsageError('--stop-on-failure and --keep-going exclude each other');
  const budget = budgetOf(flags);
  return {
    budget,
    suites: suitesOf(flags.suite),
    baseSeed: base.seed,
    baseSeedSource: base.source,
    workers: flags.workers === undefined ? Math.max(1, Math.min(MAX_WORKERS, defaults.cpus)) : intIn(flags.workers, '--workers', 1, MAX_WORKERS),
    shard,
    json: flags.json === true,
    outDir: flags.out ?? DEFAULT_OUT_DIR,
    ...(mutant === undefined ? {} : { mutant }),
    stopOnFailure: flags['stop-on-failure'] === true || (mutant !== undefined && flags['keep-going'] !== true),
    seedTimeoutMs: seedTimeoutFor(positiveDuration(flags['seed-timeout'] ?? formatDurationMs(DEFAULT_SEED_TIMEOUT_MS), '--seed-timeout'), budget),
  };
}

/**
 * The seed timeout a run uses: the configured one, but under a time budget
 * never more than a quarter of it (at least min(budget/2, 10 s), so that a
 * slow seed of a short run is not taken for a hang), so that one seed that
 * hangs without the hang watch noticing (a livelock) cannot eat the run:
 * a 60 s run times a seed out after 15 s, not 2 minutes (issue 13).
 */
export function seedTimeoutFor(configuredMs: number, budget: Budget): number {
  if (budget.kind !== 'time') return configuredMs;
  const cap = Math.max(Math.floor(budget.ms / 4), Math.min(Math.floor(budget.ms / 2), 10_000));
  return Math.min(configuredMs, cap);
}

function budgetOf(flags: Flags): Budget {
  if (flags.time !== undefined && flags.count !== undefined) throw new UsageError('--time and --count exclude each other');
  if (flags.count !== undefined) return { kind: 'count', seeds: intIn(flags.count, '--count', 1, MAX_COUNT) };
  return { kind: 'time', ms: flags.time === undefined ? DEFAULT_TIME_MS : positiveDuration(flags.time, '--time') };
}

/** `--suite a --suite b,c`; empty means every registered suite. Duplicates are dropped. */
function suitesOf(values: readonly string[] | undefined): string[] {
  const known = suiteNames();
  const asked = (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  for (const name of asked) {
    if (!known.includes(name)) throw new UsageError(`--suite: unknown suite ${JSON.stringify(name)} (known: ${known.join(', ')})`);
  }
  return asked.length === 0 ? known : [...new Set(asked)];
}

function checkedMutant(name: string): string {
  if (mutantNamed(name) === undefined) throw new UsageError(`--mutant: unknown mutant ${JSON.stringify(name)} (known: ${mutantNames().join(', ')})`);
  return name;
}

function positiveDuration(text: string, what: string): number {
  const ms = parseDurationMs(text, what);
  if (ms <= 0) throw new UsageError(`${what}: must be more than 0, got ${JSON.stringify(text)}`);
  return ms;
}

function intIn(text: string, what: string, min: number, max: number): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${what}: expected an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
