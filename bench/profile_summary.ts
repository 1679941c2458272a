// Summarize a V8 .cpuprofile (node --cpu-prof, or `npm run bench -- --cpu-prof`)
// as text: the functions with the most self time, and the source files and
// functions with the most inclusive time, so hot spots can be written down
// with numbers.
//
//   node --import tsx bench/profile_summary.ts <file.cpuprofile> [--top N]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function where(f: CallFrame): string {
  const path = f.url.startsWith('file://') ? relative(ROOT, fileURLToPath(f.url)) : f.url === '' ? '(native)' : f.url;
  return `${f.functionName === '' ? '(anonymous)' : f.functionName} ${path}:${f.lineNumber + 1}`;
}

export function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totalHits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const ms = (profile.endTime - profile.startTime) / 1000;
  const msPerHit = totalHits === 0 ? 0 : ms / totalHits;
  const self = new Map<string, number>();
  for (const n of profile.nodes) self.set(where(n.callFrame), (self.get(where(n.callFrame)) ?? 0) + (n.hitCount ?? 0));
  // Inclusive: each node's subtree, counted once per distinct function on the path.
  const inclusive = new Map<string, number>();
  const byFile = new Map<string, number>();
  const walk = (id: number, onPath: ReadonlySet<string>, filesOnPath: ReadonlySet<string>): number => {
    const node = byId.get(id);
    if (node === undefined) return 0;
    const key = where(node.callFrame);
    const file = key.slice(key.lastIndexOf(' ') + 1).replace(/:\d+$/, '');
    const path = new Set(onPath).add(key);
    const files = new Set(filesOnPath).add(file);
    let hits = node.hitCount ?? 0;
    for (const child of node.children ?? []) hits += walk(child, path, files);
    if (!onPath.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    if (!filesOnPath.has(file)) byFile.set(file, (byFile.get(file) ?? 0) + hits);
    return hits;
  };
  const root = profile.nodes[0];
  if (root !== undefined) walk(root.id, new Set(), new Set());
  const idle = self.get('(idle) (native):0') ?? 0;
  const busy = Math.max(1, totalHits - idle);
  const fmt = (entries: Map<string, number>): string[] =>
    [...entries]
      .filter(([k]) => !/^\((idle|root|program)\)/.test(k) && k !== '(native)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, hits]) => `${((100 * hits) / busy).toFixed(1).padStart(5)}%  ${(hits * msPerHit).toFixed(0).padStart(6)} ms  ${k}`);
  return [
    `profile: ${ms.toFixed(0)} ms, busy ${((busy * msPerHit) / ms * 100).toFixed(0)}% of it (idle ${(idle * msPerHit).toFixed(0)} ms); percentages of busy time`,
    '',
    'self time:',
    ...fmt(self),
    '',
    'inclusive time by function:',
    ...fmt(inclusive),
    '',
    'inclusive time by file:',
    ...fmt(byFile),
  ].join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string' } }, allowPositionals: true });
  const file = positionals[0];
  if (file === undefined) throw new Error('usage: profile_summary.ts <file.cpuprofile> [--top N]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  process.stdout.write(summarize(profile, Number(values.top ?? 25)) + '\n');
}

main();
