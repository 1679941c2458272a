// Our code as users run it: the compiled JavaScript in dist/ (what `npm
// start` and the `shardstore` bin run), not the TypeScript sources under
// tsx, whose transform adds work to every call (esbuild's keepNames wraps
// each function created at run time: 3-5% of a put's CPU). The bench
// builds first, so dist/ is the working tree's code.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OUR_BIN = fileURLToPath(new URL('../../dist/bin/shardstore.js', import.meta.url));

/**
 * node's own flags in `npm start` (package.json: `node <flags>
 * dist/bin/shardstore.js serve`; src/cli/node_flags.ts says why). Every
 * node process the bench starts runs with them, ours and the peers' and the
 * raw rows' alike: the flags are the process's, not the engine's, and a
 * user who picks a peer may run it under the same node.
 */
export const START_NODE_FLAGS: readonly string[] = startNodeFlagsOf(fileURLToPath(new URL('../..', import.meta.url)));

/** node's flags in the `npm start` of the checkout at `root` (none in one from before they were added). */
export function startNodeFlagsOf(root: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.['start'] ?? '').split(/\s+/);
  const script = words.indexOf('dist/bin/shardstore.js');
  if (words[0] !== 'node' || script < 0) throw new Error(`package.json: npm start is not "node [flags] dist/bin/shardstore.js ...": ${words.join(' ')}`);
  return words.slice(1, script);
}

/** `npm run build`: dist/ from the working tree. */
export function buildOurs(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.status ?? r.signal ?? 'unknown'})`);
}
