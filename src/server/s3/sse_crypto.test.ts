// tier: quick (npm run test:quick; docs/TESTING.md)
// Encrypted data in segments (sse_crypto.ts, sse_format.ts), without a
// server: random blobs split into random pieces are encrypted, then random
// plaintext ranges are planned and decrypted from the stored bytes the
// plan names, which must be exactly the plaintext of the range; any one
// stored byte changed must fail with a CorruptionError, never give bytes.
// Also: the section codec round-trips and refuses what no writer makes,
// and the node key file does the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CorruptionError } from '../../base/index.js';
import { EncryptingStream, decryptPlanned, planRange, unwrapKey, wrapKey, WRAP_AAD } from './sse_crypto.js';
import type { Blob } from './sse_crypto.js';
import { decodeEncryption, encodeEncryption, plainBytes, storedBytes } from './sse_format.js';
import type { EncryptionParams } from './sse_format.js';
import { decodeNodeKeyFile, encodeNodeKeyFile } from './node_key.js';

const SEGMENT = 64;

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of stream) out.push(piece);
  return Buffer.concat(out);
}

/** `bytes` cut at the given lengths (the rest in one piece), as an async stream. */
function pieces(bytes: Buffer, cuts: readonly number[]): AsyncIterable<Buffer> {
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of cuts) {
    const end = Math.min(bytes.length, at + cut);
    out.push(bytes.subarray(at, end));
    at = end;
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return Readable.from(out);
}

function once(bytes: Buffer): AsyncIterable<Buffer> {
  return Readable.from([bytes]);
}

/** Encrypt each part's plaintext as a blob; the object's stored bytes, blobs and plaintext. */
async function encryptParts(key: Buffer, parts: readonly Buffer[], cuts: readonly number[]): Promise<{ stored: Buffer; blobs: Blob[]; plain: Buffer }> {
  const stored: Buffer[] = [];
  const blobs: Blob[] = [];
  for (const [i, part] of parts.entries()) {
    const stream = new EncryptingStream(pieces(part, cuts), key, SEGMENT, i + 1);
    const bytes = await collect(stream);
    assert.equal(stream.plainBytes, part.length);
    assert.equal(bytes.length, storedBytes(part.length, SEGMENT));
    stored.push(bytes);
    blobs.push({ part: i + 1, storedBytes: bytes.length });
  }
  return { stored: Buffer.concat(stored), blobs, plain: Buffer.concat(parts) };
}

const partsArb = fc.array(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { minLength: 1, maxLength: 4 });

void test('a planned range decrypts to exactly the plaintext of the range, reading whole segments only', async () => {
  await fc.assert(
    fc.asyncProperty(partsArb, fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 8 }), fc.nat(), fc.nat(), async (parts, cuts, a, b) => {
      const key = randomBytes(32);
      const { stored, blobs, plain } = await encryptParts(key, parts, cuts);
      const start = plain.length === 0 ? 0 : a % (plain.length + 1);
      const end = start + (b % (plain.length - start + 1));
      const plan = planRange(blobs, SEGMENT, plain.length, { start, end });
      const got = await collect(decryptPlanned(once(stored.subarray(plan.stored.start, plan.stored.end)), key, SEGMENT, plan));
      assert.deepEqual(got, plain.subarray(start, end));
      // Only the segments the range needs: at most one segment of slack on each side per blob it crosses.
      assert.ok(plan.stored.end - plan.stored.start <= end - start + plan.runs.length * 2 * (SEGMENT + 28));
    }),
    { seed: 16, numRuns: 300 },
  );
});

void test('any one stored byte changed fails with a CorruptionError, never wrong bytes', async () => {
  await fc.assert(
    fc.asyncProperty(partsArb, fc.nat(), fc.integer({ min: 1, max: 255 }), async (parts, at, flip) => {
      const key = randomBytes(32);
      const { stored, blobs, plain } = await encryptParts(key, parts, []);
      // A read of no bytes opens only the first segment: an object of several empty parts is the one case not read whole.
      fc.pre(plain.length > 0);
      const tampered = Buffer.from(stored);
      const i = at % tampered.length;
      tampered[i] = (tampered[i] ?? 0) ^ flip;
      const plan = planRange(blobs, SEGMENT, plain.length, { start: 0, end: plain.length });
      await assert.rejects(collect(decryptPlanned(once(tampered), key, SEGMENT, plan)), CorruptionError);
    }),
    { seed: 17, numRuns: 200 },
  );
});

void test('segments moved between parts or cut off at a segment boundary fail their tags', async () => {
  const key = randomBytes(32);
  const part = randomBytes(SEGMENT * 2);
  const { stored, blobs } = await encryptParts(key, [part, part], []);
  // Swap the two parts' first segments: same plaintext, other part number in the AAD.
  const seg = SEGMENT + 28;
  const swapped = Buffer.concat([stored.subarray(stored.length / 2, stored.length / 2 + seg), stored.subarray(seg)]);
  const plan = planRange(blobs, SEGMENT, part.length * 2, { start: 0, end: part.length * 2 });
  await assert.rejects(collect(decryptPlanned(once(swapped), key, SEGMENT, plan)), CorruptionError);
  // A blob cut after its first segment: the record's sizes no longer match, and a shorter blob's last flag fails.
  const one = await encryptParts(key, [part], []);
  const cut = one.stored.subarray(0, seg);
  const planCut = planRange([{ part: 1, storedBytes: seg }], SEGMENT, SEGMENT, { start: 0, end: SEGMENT });
  await assert.rejects(collect(decryptPlanned(once(cut), key, SEGMENT, planCut)), CorruptionError);
  assert.throws(() => planRange(blobs, SEGMENT, part.length * 2 + 1, { start: 0, end: 1 }), CorruptionError);
});

void test('stored and plaintext sizes invert, and a stored size no writer makes is a CorruptionError', () => {
  for (let n = 0; n < SEGMENT * 4; n++) assert.equal(plainBytes(storedBytes(n, SEGMENT), SEGMENT), n);
  assert.throws(() => plainBytes(27, SEGMENT), CorruptionError);
  assert.throws(() => plainBytes(SEGMENT + 28 + 1 + 27, SEGMENT), CorruptionError);
});

void test('a wrapped data key opens only under its wrapping key and kind', () => {
  const [wrapping, data] = [randomBytes(32), randomBytes(32)];
  const wrapped = wrapKey(wrapping, data, WRAP_AAD['sse-s3']);
  assert.deepEqual(unwrapKey(wrapping, wrapped, WRAP_AAD['sse-s3']), data);
  assert.throws(() => unwrapKey(randomBytes(32), wrapped, WRAP_AAD['sse-s3']), CorruptionError);
  assert.throws(() => unwrapKey(wrapping, wrapped, WRAP_AAD['sse-c']), CorruptionError);
});

void test('encryption section and node key file: round trip, and damage is a CorruptionError', () => {
  const dataKey = { nonce: randomBytes(12), sealed: randomBytes(48) };
  const all: EncryptionParams[] = [
    { mode: 'sse-s3', segmentBytes: 65536, dataKey, nodeKeyId: randomBytes(8) },
    { mode: 'sse-c', segmentBytes: 65536, dataKey, macSalt: randomBytes(16), keyMac: randomBytes(32) },
  ];
  for (const p of all) {
    const bytes = encodeEncryption(p);
    assert.deepEqual(decodeEncryption(bytes), p);
    assert.throws(() => decodeEncryption(bytes.subarray(0, bytes.length - 1)), CorruptionError);
    assert.throws(() => decodeEncryption(Buffer.concat([bytes, Buffer.from([0])])), CorruptionError);
    assert.throws(() => decodeEncryption(Buffer.concat([Buffer.from([2]), bytes.subarray(1)])), CorruptionError);
  }
  const key = randomBytes(32);
  const file = encodeNodeKeyFile(key);
  assert.equal(file.length, 41);
  assert.deepEqual(decodeNodeKeyFile(file), key);
  const damaged = Buffer.from(file);
  damaged[10] = (damaged[10] ?? 0) ^ 1;
  assert.throws(() => decodeNodeKeyFile(damaged), CorruptionError);
});
