// Mutation testing of the core layers with StrykerJS (issue 13), on a
// sample of mutants that a seed reproduces. docs/TESTING.md has the score.
//
//   npm run test:mutation                  # the sample of seed 1
//   npm run test:mutation -- --seed 7      # another sample
//   npm run test:mutation -- --size 120    # a bigger sample (default 60)
//   npm run test:mutation -- --list        # print the sample, run nothing
//   npm run test:mutation -- --full        # every mutant of the core layers (hours)
//
// Strategy: stryker.config.json names the files to mutate, the killers (test
// files, run by the tap runner one process each) and the options. This
// script lists every mutant Stryker would make of those files (Stryker's
// own instrumenter, same mutators), then draws mutants with a seeded PRNG
// (testing/rng.ts) and hands Stryker the source range of each drawn
// mutant (`file:line:col-line:col`). Stryker mutates every node that lies
// inside a range, so a drawn mutant brings the other mutants of the same
// node (`a < b` comes with `a <= b`, `true`, `false`) and of the nodes
// nested in it. To keep the sample a sample, a draw whose range holds more
// than MAX_PER_RANGE mutants is skipped (an emptied function body, a long
// condition); those are only in the full run. The script runs the
// instrumenter again with the chosen ranges, so the sample it prints is
// exactly what Stryker mutates.
//
// The killers run short forms of the shardstore check suites (fixed seeds,
// fewer sequences: KILLER_ENV) so that one mutant costs well under a minute.
import { readFileSync } from 'node:fs';
import { Instrumenter } from '@stryker-mutator/instrumenter';
import type { File } from '@stryker-mutator/instrumenter';
import type { Logger } from '@stryker-mutator/api/logging';
import type { MutantResult, MutateDescription, MutationRange } from '@stryker-mutator/api/core';
import { Stryker } from '@stryker-mutator/core';
import { Rng } from '../testing/rng.js';
import { AssertMessageIgnorer } from './mutation_ignore.js';

const CONFIG_FILE = 'stryker.config.json';
const DEFAULT_SIZE = 60;
const MAX_PER_RANGE = 6;
/**
 * Short forms of the check suites (npm test runs 2,000 conformance, 400 crash
 * and 60 metadata-fault sequences), and no shrinking: any failure kills.
 */
const KILLER_ENV = { CONFORMANCE_RUNS: '50', CRASH_RUNS: '40', METADATA_FAULT_RUNS: '20', SHARDSTORE_SHRINK: '0' } as const;

interface Options {
  readonly seed: number;
  readonly size: number;
  readonly list: boolean;
  readonly full: boolean;
}

interface ListedMutant {
  readonly id: string;
  readonly fileName: string;
  readonly mutatorName: string;
  readonly replacement: string;
  readonly range: MutationRange;
}

function parseOptions(argv: readonly string[]): Options {
  let seed = Number(process.env['MUTATION_SEED'] ?? 1);
  let size = DEFAULT_SIZE;
  let list = false;
  let full = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--seed') seed = Number(argv[++i]);
    else if (arg === '--size') size = Number(argv[++i]);
    else if (arg === '--list') list = true;
    else if (arg === '--full') full = true;
    else throw new RangeError(`unknown option ${String(arg)} (--seed N, --size N, --list, --full)`);
  }
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(size) || size < 1) {
    throw new RangeError('--seed and --size take whole numbers, --size at least 1');
  }
  return { seed, size, list, full };
}

function readConfig(): { mutate: string[] } {
  const parsed = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as { mutate?: unknown };
  if (!Array.isArray(parsed.mutate) || !parsed.mutate.every((f) => typeof f === 'string')) {
    throw new TypeError(`${CONFIG_FILE}: mutate must list files`);
  }
  return { mutate: parsed.mutate };
}

const quietLogger: Logger = {
  isTraceEnabled: () => false,
  isDebugEnabled: () => false,
  isInfoEnabled: () => false,
  isWarnEnabled: () => true,
  isErrorEnabled: () => true,
  isFatalEnabled: () => true,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  fatal: (message: string) => console.error(message),
};

/**
 * The mutants Stryker makes of `files`, each limited to `mutate[file]` (all
 * when absent), without the ones it would mark Ignored: those of the rule of
 * scripts/mutation_ignore.ts (also in stryker.config.json `ignorers`) and
 * those under a `// Stryker disable` comment in src/.
 */
async function listMutants(files: readonly string[], mutate?: ReadonlyMap<string, MutationRange[]>): Promise<ListedMutant[]> {
  const input: File[] = files.map((name) => {
    const ranges = mutate?.get(name);
    const description: MutateDescription = mutate === undefined ? true : (ranges ?? false);
    return { name, content: readFileSync(name, 'utf8'), mutate: description };
  });
  const result = await new Instrumenter(quietLogger).instrument(input, {
    plugins: null,
    excludedMutations: [],
    ignorers: [new AssertMessageIgnorer()],
  });
  return result.mutants.filter((m) => m.status !== 'Ignored').map((m) => ({
    id: m.id,
    fileName: m.fileName,
    mutatorName: m.mutatorName,
    replacement: m.replacement,
    range: toRange(m.location),
  }));
}

/** API locations are 0-based lines; the ranges Stryker takes from `mutate` are too once parsed. */
function toRange(location: MutationRange): MutationRange {
  return { start: { ...location.start }, end: { ...location.end } };
}

function contains(outer: MutationRange, inner: MutationRange): boolean {
  const startIn =
    outer.start.line < inner.start.line ||
    (outer.start.line === inner.start.line && outer.start.column <= inner.start.column);
  const endIn =
    outer.end.line > inner.end.line || (outer.end.line === inner.end.line && outer.end.column >= inner.end.column);
  return startIn && endIn;
}

/** Draw ranges until the mutants inside them reach `size`. */
function drawRanges(all: readonly ListedMutant[], options: Options): Map<string, MutationRange[]> {
  const rng = new Rng(options.seed, `mutation-sample-${options.seed}`);
  const order = all.map((_, i) => i);
  rng.shuffle(order);
  const chosen = new Map<string, MutationRange[]>();
  const taken = new Set<string>();
  for (const i of order) {
    if (taken.size >= options.size) break;
    const drawn = all[i];
    if (drawn === undefined || taken.has(drawn.id)) continue;
    const inside = all.filter((m) => m.fileName === drawn.fileName && contains(drawn.range, m.range));
    if (inside.length > MAX_PER_RANGE) continue;
    for (const m of inside) taken.add(m.id);
    const ranges = chosen.get(drawn.fileName) ?? [];
    ranges.push(drawn.range);
    chosen.set(drawn.fileName, ranges);
  }
  return chosen;
}

/** Stryker's `mutate` syntax: 1-based lines, 0-based columns. */
function mutatePatterns(chosen: ReadonlyMap<string, MutationRange[]>): string[] {
  const patterns: string[] = [];
  for (const [file, ranges] of chosen) {
    for (const r of ranges) {
      patterns.push(`${file}:${r.start.line + 1}:${r.start.column}-${r.end.line + 1}:${r.end.column}`);
    }
  }
  return patterns;
}

function describe(m: ListedMutant): string {
  const where = `${m.fileName}:${m.range.start.line + 1}:${m.range.start.column + 1}`;
  return `${where} ${m.mutatorName}: ${m.replacement.replace(/\s+/g, ' ').slice(0, 100)}`;
}

/** "src/index 1234, ..." : how many mutants each folder has. */
function perFolder(mutants: readonly ListedMutant[]): string {
  const counts = new Map<string, number>();
  for (const m of mutants) {
    const folder = m.fileName.slice(0, m.fileName.lastIndexOf('/'));
    counts.set(folder, (counts.get(folder) ?? 0) + 1);
  }
  return [...counts].map(([folder, n]) => `${folder} ${n}`).join(', ');
}

function summarize(results: readonly MutantResult[]): void {
  const count = (status: string): number => results.filter((r) => r.status === status).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const errors = count('RuntimeError') + count('CompileError');
  const valid = killed + timeout + survived + noCoverage;
  const score = valid === 0 ? 0 : (100 * (killed + timeout)) / valid;
  console.log(
    `mutation score ${score.toFixed(1)}% (${killed + timeout}/${valid}): killed ${killed}, timeout ${timeout}, ` +
      `survived ${survived}, no coverage ${noCoverage}, errors ${errors}`,
  );
  for (const r of results.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
    console.log(`  ${r.status} ${r.fileName}:${r.location.start.line}:${r.location.start.column} ${r.mutatorName}: ${String(r.replacement)}`);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const { mutate: files } = readConfig();
  let patterns = files;
  if (!options.full) {
    const all = await listMutants(files);
    const chosen = drawRanges(all, options);
    const sample = await listMutants(files, chosen);
    console.log(`seed ${options.seed}: ${sample.length} of ${all.length} mutants in ${files.length} files (${perFolder(all)})`);
    for (const m of sample) console.log(`  ${describe(m)}`);
    patterns = mutatePatterns(chosen);
  }
  if (options.list) return;
  Object.assign(process.env, KILLER_ENV);
  const started = Date.now();
  const results = await new Stryker({ configFile: CONFIG_FILE, mutate: patterns }).runMutationTest();
  summarize(results);
  console.log(`seed ${options.full ? 'full run' : options.seed}, ${((Date.now() - started) / 60_000).toFixed(1)} min`);
}

await main();
