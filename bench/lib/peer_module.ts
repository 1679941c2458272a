// Loading the peers (bench/package.json) without a compile-time dependency
// on them: the main package's typecheck and lint must pass where
// bench/node_modules was never installed, so peers are required at run time
// from bench/ and typed here by the few members the bench uses, each checked
// when loaded.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const requireFromBench = createRequire(new URL('../package.json', import.meta.url));

/** module.exports of a peer installed in bench/node_modules. */
export function requirePeer(name: string): unknown {
  return requireFromBench(name) as unknown;
}

/**
 * The installed version of a peer: the package.json above its entry point
 * (not `require('<name>/package.json')`, which a package's "exports" may forbid).
 */
export function peerVersion(name: string): string {
  let dir = dirname(requireFromBench.resolve(name));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === name && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/** `obj[key]`, which must be a function; typed as T by the caller's description of it. */
export function member<T>(obj: unknown, key: string, what: string): T {
  const value: unknown = typeof obj === 'object' || typeof obj === 'function' ? (obj as Record<string, unknown> | null)?.[key] : undefined;
  if (typeof value !== 'function') throw new TypeError(`${what}: ${key} is not a function (peer API changed?)`);
  return value as T;
}

/** A peer's module.exports when it is itself the function. */
export function callable<T>(value: unknown, what: string): T {
  if (typeof value !== 'function') throw new TypeError(`${what} is not a function (peer API changed?)`);
  return value as T;
}
