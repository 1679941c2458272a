// Our code as users run it: the compiled JavaScript in dist/ (what `npm
// start` and the `shardstore` bin run), not the TypeScript sources under
// tsx, whose transform adds work to every call (esbuild's keepNames wraps
// each function created at run time: 3-5% of a put's CPU). The bench
// builds first, so dist/ is the working tree's code.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const OUR_BIN = fileURLToPath(new URL('../../dist/bin/shardstore.js', import.meta.url));

/** `npm run build`: dist/ from the working tree. */
export function buildOurs(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.status ?? r.signal ?? 'unknown'})`);
}
