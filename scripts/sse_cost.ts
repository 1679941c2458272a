// What encryption at rest costs (docs/S3.md, "Encryption at rest"): the
// segment cipher alone on 64 MiB, then 16 PUTs and GETs of 4 MiB objects and
// 200 GETs of 1 KiB ranges over the AWS SDK against a node on a temporary
// folder, plain, SSE-S3 and SSE-C (the first round warms up, the second is
// printed).
// Usage: node --import tsx scripts/sse_cost.ts
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { StaticNodeKey } from '../src/server/index.js';
import { startS3Node } from '../testing/s3_harness.js';
import { EncryptingStream, decryptPlanned, planRange } from '../src/server/s3/sse_crypto.js';

const key = Buffer.alloc(32, 1);
const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
/** `bytes` in 1 MiB pieces. */
function mebibytes(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 1 << 20) out.push(bytes.subarray(i, i + (1 << 20)));
  return out;
}

async function raw(): Promise<void> {
  const data = randomBytes(64 * 1024 * 1024);
  const src = (): AsyncIterable<Buffer> => Readable.from(mebibytes(data));
  let t = performance.now();
  const enc = new EncryptingStream(src(), key, 65536, 0);
  const out: Buffer[] = [];
  for await (const p of enc) out.push(p);
  const encMs = performance.now() - t;
  const stored = Buffer.concat(out);
  t = performance.now();
  const plan = planRange([{ part: 0, storedBytes: stored.length }], 65536, data.length, { start: 0, end: data.length });
  const once = (): AsyncIterable<Buffer> => Readable.from(mebibytes(stored));
  let n = 0;
  for await (const p of decryptPlanned(once(), key, 65536, plan)) n += p.length;
  const decMs = performance.now() - t;
  console.log(`raw: encrypt ${(64 / (encMs / 1000)).toFixed(0)} MiB/s, decrypt ${(64 / (decMs / 1000)).toFixed(0)} MiB/s (64 MiB, ${n === data.length})`);
}
async function main(): Promise<void> {
  await raw();
  const node = await startS3Node({ s3: { nodeKey: new StaticNodeKey(Buffer.alloc(32, 2)) }, diskSizeBytes: 1024 * 1024 * 1024 });
  const s3 = node.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const body = randomBytes(4 * 1024 * 1024);
  const modes: Array<[string, Record<string, string>, Record<string, string>]> = [['plain', {}, {}], ['sse-s3', { ServerSideEncryption: 'AES256' }, {}], ['sse-c', ssec, ssec]];
  for (let round = 0; round < 2; round++) for (const [name, put, get] of modes) {
    const N = 16;
    let t = performance.now();
    for (let i = 0; i < N; i++) await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `${name}-${i}`, Body: body, ...put }));
    const putMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < N; i++) { const o = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `${name}-${i}`, ...get })); await o.Body?.transformToByteArray(); }
    const getMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 200; i++) { const at = (i * 7919 * 13) % (body.length - 1024); const o = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `${name}-${i % N}`, Range: `bytes=${at}-${at + 1023}`, ...get })); await o.Body?.transformToByteArray(); }
    const rangeMs = performance.now() - t;
    if (round === 1) console.log(`${name}: PUT 4 MiB x${N} ${(N * 4 / (putMs / 1000)).toFixed(0)} MiB/s, GET ${(N * 4 / (getMs / 1000)).toFixed(0)} MiB/s, 1 KiB range GET ${(rangeMs / 200).toFixed(2)} ms each`);
  }
  await node.stop();
}
await main();
