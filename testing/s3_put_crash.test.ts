// An S3 PUT is durable in one step (its data shard and its record commit
// together, src/server/s3/objects.ts) and survives a power cut: the S3
// front over a node of two simulated disks, crashed with PUTs in flight.
//
// Strategy: four clients overwrite one object each, over and over, each
// version a different size around the chunk size (data shards of one to
// several chunks; objects are never inline here). After a number of
// acknowledged PUTs drawn from the seed, every disk holds its flushes: the
// commit cycles in flight have written data and records and wait for
// their one sync. Once a disk holds a flush, the power is cut (the
// disks keep none, all, a subset, or a torn subset of what was not
// synced: the four modes in turn), the node recovers, and a fresh front
// serves it. Several rounds.
//
// Invariants, after each crash, for every object:
// 1. it is readable (a record never names data that is not there);
// 2. it holds the version last acknowledged, or the one in flight at the
//    crash, byte for byte (a PUT is answered only once durable; never a
//    mix, never an older version);
// 3. its owner and ACL are those the PUT of the version it holds gave it:
//    odd versions are written by another user (alt, granted WRITE on the
//    bucket) with `x-amz-acl: bucket-owner-full-control`, so alt owns them
//    (ObjectWriter) and both hold FULL_CONTROL; even ones by the bucket
//    owner with `public-read`. An owner or ACL kept apart from its object
//    (written before or after it) would show, after a cut between the two,
//    a version with the other one's owner or ACL (docs/S3.md, "ACLs" and
//    "Ownership controls").
// The broken variants s3-put-acked-early and s3-put-record-first
// (testing/mutants/together_mutants.ts) are each caught by the violation
// they cause; object-acl-header-ignored (testing/mutants/http_check_mutants.ts)
// by invariant 3.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GetObjectAclCommand, GetObjectCommand, PutBucketAclCommand, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { LEGACY_OWNER_ID } from '../src/server/index.js';
import type { User } from '../src/server/index.js';
import { SMALL_CONFIG } from './conformance.js';
import type { CrashMode } from './sim_disk.js';
import { SimNode } from './sim_node.js';
import { Rng } from './rng.js';
import { serveSim as serve, stopSim as stop } from './s3_sim_front.js';
import type { SimFront as Front } from './s3_sim_front.js';
import { s3PutAckedEarly, s3PutRecordFirst } from './mutants/together_mutants.js';
import { objectAclHeaderIgnored } from './mutants/http_check_mutants.js';

const SEED = 20261205;
const ROUNDS = 4;
const WRITERS = 4;
const KILL_AFTER_ACKS = { min: 4, max: 16 };
const MODES: readonly CrashMode[] = ['keep-all', 'subset', 'torn', 'drop-all'];
const BUCKET = 'crash';
/** Turns of the event loop between a held flush and the cut (see crashRounds). */
const SETTLE_TURNS = 200;

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Version n of object w: its size and bytes follow from (w, n). */
function body(w: number, n: number): Buffer {
  const size = 2_000 + ((w * 7919 + n * 104_729) % 20_000);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (w * 31 + n * 17 + i) & 0xff;
  return out;
}

/** The second user, who writes the odd versions (invariant 3); fixed, so that a seed replays the same bytes. */
const ALT: User = { id: 'a1'.repeat(32), displayName: 'alt', accessKeyId: 'SSCRASHALT0000000001', secretAccessKey: 'crash-alt-secret-key-0000000000000000000' };
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

/** Who writes version n, with which canned ACL, and the owner and grants (grantee, permission) it must then have (invariant 3). */
function writeOf(n: number): { writer: 'alt' | 'owner'; ACL: 'bucket-owner-full-control' | 'public-read'; owner: string; grants: string[] } {
  return n % 2 === 1
    ? { writer: 'alt', ACL: 'bucket-owner-full-control', owner: ALT.id, grants: [`${ALT.id} FULL_CONTROL`, `${LEGACY_OWNER_ID} FULL_CONTROL`] }
    : { writer: 'owner', ACL: 'public-read', owner: LEGACY_OWNER_ID, grants: [`${ALL_USERS} READ`, `${LEGACY_OWNER_ID} FULL_CONTROL`] };
}

function writerClient(front: Front, n: number): S3Client {
  return writeOf(n).writer === 'alt' ? front.clientOf(ALT) : front.s3;
}

/** Invariant 3: the object's owner and ACL are exactly those version n's PUT gave it (the bucket owner may read both). */
async function aclViolation(front: Front, w: number, n: number): Promise<string | undefined> {
  const acl = await front.s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: `o${w}` }));
  const grants = (acl.Grants ?? []).map((g) => `${g.Grantee?.ID ?? g.Grantee?.URI ?? '?'} ${g.Permission ?? '?'}`);
  const asked = writeOf(n);
  if (acl.Owner?.ID === asked.owner && JSON.stringify(grants) === JSON.stringify(asked.grants)) return undefined;
  return `object o${w} holds version ${n}, written by ${asked.writer} with ${asked.ACL}, but its owner and ACL are ${acl.Owner?.ID ?? '?'}: ${grants.join(', ')}`;
}

/** Which version of object w `bytes` is (-1 if none up to `upTo`). */
function versionOf(w: number, bytes: Buffer, upTo: number): number {
  for (let n = upTo; n >= 0; n--) if (body(w, n).equals(bytes)) return n;
  return -1;
}

interface Book {
  acked: number;
  inFlight: number | undefined;
}

/** Overwrite object w until a PUT fails (the crash); resolves then. */
async function overwriteUntilCrash(front: Front, w: number, book: Book, onAck: () => void): Promise<void> {
  for (;;) {
    const n = book.acked + 1;
    book.inFlight = n;
    try {
      await writerClient(front, n).send(new PutObjectCommand({ Bucket: BUCKET, Key: `o${w}`, Body: body(w, n), ACL: writeOf(n).ACL }));
    } catch {
      return; // The crash: this PUT's outcome is unknown.
    }
    book.acked = n;
    book.inFlight = undefined;
    onAck();
  }
}

/** Invariants 1 and 2 for every object; returns the violations, and takes what each holds as acknowledged. */
async function checkObjects(front: Front, books: readonly Book[]): Promise<string[]> {
  const violations: string[] = [];
  for (const [w, book] of books.entries()) {
    let bytes: Buffer;
    try {
      const answer = await front.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `o${w}` }));
      bytes = Buffer.from((await answer.Body?.transformToByteArray()) ?? new Uint8Array());
    } catch (err: unknown) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      violations.push(`object o${w}: GET answered ${String(status)} ${err instanceof Error ? err.name : String(err)} (acknowledged ${book.acked})`);
      continue;
    }
    const n = versionOf(w, bytes, book.inFlight ?? book.acked);
    if (n !== book.acked && n !== book.inFlight) violations.push(`object o${w} holds version ${n} after the crash, acknowledged ${book.acked}, in flight ${String(book.inFlight)}`);
    const acl = n < 0 ? undefined : await aclViolation(front, w, n);
    if (acl !== undefined) violations.push(acl);
    book.acked = Math.max(n, 0);
    book.inFlight = undefined;
  }
  return violations;
}

/** ROUNDS crashes with PUTs in flight; the violations found (none expected of the real code). */
async function crashRounds(seed: number): Promise<string[]> {
  const rng = new Rng(seed);
  const sim = await SimNode.create(SMALL_CONFIG, seed);
  let front = await serve(sim, [ALT]);
  const books: Book[] = Array.from({ length: WRITERS }, () => ({ acked: 0, inFlight: undefined }));
  try {
    await front.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await front.s3.send(new PutBucketAclCommand({ Bucket: BUCKET, GrantFullControl: `id="${LEGACY_OWNER_ID}"`, GrantWrite: `id="${ALT.id}"` }));
    for (const [w] of books.entries()) await front.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `o${w}`, Body: body(w, 0), ACL: writeOf(0).ACL }));
    for (let round = 0; round < ROUNDS; round++) {
      const holdAfter = rng.int(KILL_AFTER_ACKS.min, KILL_AFTER_ACKS.max);
      let acks = 0;
      let crashed: Promise<void> | undefined;
      const current = front;
      const onAck = (): void => {
        if (++acks !== holdAfter) return;
        // The cycles in flight write their data and records; no sync returns. Cut once a disk waits on one.
        for (const g of sim.gates) g.holdFlushes();
        // Before the cut, some turns of the event loop (no wall clock): whatever can still answer without a sync does (the real
        // code answers nothing more; a PUT acknowledged early does, even when its answer first awaits a read, as the
        // x-amz-expiration lookup of lifecycle_headers.ts made it do: without these turns the cut came first and hid the variant).
        crashed = Promise.race(sim.gates.map((g) => g.whenHeld(1)))
          .then(() => turns(SETTLE_TURNS))
          .then(() => sim.crash(MODES[round % MODES.length] ?? 'subset', rng.int(0, 0xffff), false));
      };
      await Promise.all(books.map((book, w) => overwriteUntilCrash(current, w, book, onAck)));
      assert.ok(crashed !== undefined, `round ${round}: a PUT failed before the crash`);
      await crashed;
      await stop(current);
      front = await serve(sim, [ALT]);
      const violations = await checkObjects(front, books);
      if (violations.length > 0) return violations.map((v) => `round ${round} (${MODES[round % MODES.length] ?? ''}): ${v}`);
    }
    return [];
  } finally {
    await stop(front);
  }
}

void test('S3 PUTs acknowledged before a power cut are there after it; one in flight is the old object or the new, readable', async () => {
  assert.deepEqual(await crashRounds(SEED), []);
});

/** Invariant 3's violation, as object-acl-header-ignored causes it (its `expect` is the http check's). */
const ACL_LOST = /object o\d holds version \d+, written by \w+ with [\w-]+, but its owner and ACL are /;

for (const [mutant, expect] of [[s3PutAckedEarly, s3PutAckedEarly.expect], [s3PutRecordFirst, s3PutRecordFirst.expect], [objectAclHeaderIgnored, ACL_LOST]] as const) {
  void test(`the crash rounds catch mutant ${mutant.name} (${mutant.bugClass})`, async () => {
    const restore = mutant.install();
    let violations: string[];
    try {
      violations = await crashRounds(SEED);
    } finally {
      restore();
    }
    assert.ok(violations.length > 0, `${mutant.name} survived ${ROUNDS} crashes`);
    assert.ok(expect !== undefined, `${mutant.name} names the failure it causes`);
    assert.match(violations.join('\n'), expect);
    console.log(`# ${mutant.name}: ${violations[0] ?? ''}`);
  });
}
