// A check of the doors of the native API and the control plane: every one
// must answer an unsigned request 401. Used by testing/mutants.test.ts (and
// the same doors are walked, with more, in testing/security.test.ts).
import { createShardServer, silentLogger } from '../src/server/index.js';
import { ModelStore } from './model.js';
import { TEST_CREDENTIALS } from './signed_fetch.js';

export const UNSIGNED_DOORS: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/v1/shards'],
  ['GET', '/v1/shards/k'],
  ['PUT', '/v1/shards/k'],
  ['DELETE', '/v1/shards/k'],
  ['GET', '/v1/admin/export'],
  ['POST', '/v1/admin/bulk-create'],
  ['POST', '/v1/admin/disks/0/out'],
];

/** "METHOD path answered STATUS" for every door that did not answer an unsigned request 401 (empty: all locked). */
export async function unsignedDoorsOpen(): Promise<string[]> {
  const server = createShardServer(new ModelStore(), { logger: silentLogger, credentials: TEST_CREDENTIALS });
  const { port } = await server.listen(0, '127.0.0.1');
  const open: string[] = [];
  try {
    for (const [method, path] of UNSIGNED_DOORS) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(method === 'PUT' ? { body: 'v', headers: { 'content-type': 'application/octet-stream' } } : {}) });
      await res.arrayBuffer();
      if (res.status !== 401) open.push(`${method} ${path} answered ${res.status}`);
    }
  } finally {
    await server.close();
  }
  return open;
}
