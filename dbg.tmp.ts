import { createShardServer, silentLogger } from './src/server/index.js';
import { ModelStore } from './testing/model.js';
import { signedFetch, TEST_CREDENTIALS } from './testing/signed_fetch.js';
const s = createShardServer(new ModelStore(), { logger: silentLogger, credentials: TEST_CREDENTIALS });
const { port } = await s.listen(0);
const r = await signedFetch(`http://127.0.0.1:${port}/v1/shards/greeting`, { method: 'PUT', body: 'hello' });
console.log(r.status, await r.text());
await s.close();
