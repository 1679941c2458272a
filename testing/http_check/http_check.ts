// The HTTP check: attack the server's real request handlers and hold every
// answer against the model of what must be refused (docs/TESTING.md,
// "The HTTP check").
//
// Strategy: each seed builds a node of two simulated disks, serves it with
// createShardServer at its defaults (the S3 front on with one key pair,
// which is also the node's key pair for the native API and the control
// plane; authentication on: "every door locked by default" is what is
// checked), and feeds raw
// request bytes to the server's own connection handling in this process
// (wire.ts). The world is set up through the server with well-formed,
// signed calls; then CASES_PER_SEED cases are drawn (cases.ts): well-formed
// calls, unsigned headers added after signing, requests changed after
// signing, every S3 subresource with every method, headers asking for
// unimplemented guarantees, no credentials, forged or stale signatures,
// browser-shaped requests and DNS rebinding, request smuggling, forged
// aws-chunked signatures, bad encodings, huge and nested XML, conditions,
// tagging, versions named by the ids setUp was told, disk faults under a call. Time is virtual (the S3 clock, the node's
// verifier and the signer share it), so a seed is the same run every time.
//
// Invariants, for every answer:
//   1. it arrives within TURN_BUDGET event-loop turns (no hang);
//   2. it is well-formed HTTP/1.1 (status line, headers, a body matching
//      its Content-Length or chunked framing); an error with a body carries
//      its code (S3: XML <Code>, native: JSON error.code);
//   3. no 5xx, except one the model names (501 fail closed; 500/503 under
//      an injected disk fault);
//   4. Access-Control-* headers only where the world's one CORS rule
//      (bucket alpha, origin CORS_ORIGIN) allows the request, and there
//      Access-Control-Allow-Origin names that origin;
//   5. its status and error code are one the case allows (cases.ts,
//      Expect), and a 2xx of a known value carries exactly its bytes;
//   6. a refused request changes nothing: the store's keys, values and
//      disk states, read through the engine, are the same before and after;
//   7. after the last case the node still answers (no crash, no wedge).
import { createHash } from 'node:crypto';
import { IoError } from '../../src/base/index.js';
import { LEGACY_OWNER_ID, StaticNodeKey, StaticUsers, createShardServer, silentLogger } from '../../src/server/index.js';
import type { ShardServer } from '../../src/server/index.js';
import type { ShardNode } from '../../src/node/index.js';
import { SMALL_CONFIG } from '../conformance.js';
import { Rng } from '../rng.js';
import { SimNode } from '../sim_node.js';
import type { AttackCase, Outcome } from './cases.js';
import type { SeededVersions } from './cases.js';
import { ACL_OBJECTS, BLOCKED_BUCKET, CORS_XML, DOC_BODIES, ENFORCED_BUCKET, GONE_BODY, LOCK_BUCKET, LOCKED_OBJECTS, nextCase, OPEN_POLICY, SEEDED_BUCKET_TAGS, SEEDED_OBJECT_TAGS, SEEDED_OBJECTS, SEEDED_SHARDS, SSE_C_BODY, SSE_KEY_A, SSE_S3_BODY, ssecHeaders, TAGGED_OBJECT, taggingXml, VAULT, VERSIONED_BUCKET } from './cases.js';
import type { HttpCall, KeyPair } from './signing.js';
import { CHECK_ACCESS_KEY, CHECK_KEYS, CHECK_SECRET_KEY, MALLORY_ID, MALLORY_KEYS, call, serialize, signHeader } from './signing.js';
import type { ParseOutcome, ParsedAnswer, WireResult } from './wire.js';
import { exchange, parseAnswers } from './wire.js';

export const CASES_PER_SEED = 40;
/** Event-loop turns an answer may take (a put on simulated disks takes a few dozen). */
export const TURN_BUDGET = 5_000;
/** The virtual clock: a fixed day, a second per seed. */
const EPOCH_MS = Date.UTC(2026, 0, 15, 12, 0, 0);

export interface HttpCheckOptions {
  readonly seed: number;
  readonly cases?: number;
  /** Only these case families (cases.ts FAMILY_NAMES); all when absent or empty. */
  readonly families?: readonly string[];
  /** Keep going after a failure, to collect them all (tests of broken variants). */
  readonly collectAll?: boolean;
  /** Stop after this case (replay of a token). */
  readonly lastCase?: number;
  /** Told every case and its answer (a trace of the run: what the model saw). */
  readonly onCase?: (index: number, c: AttackCase, answer: string) => void;
}

export interface HttpFailure {
  /** The invariant broken: a case's property, or no-hang, well-formed-answer, no-5xx, no-cors, node-survives. */
  readonly property: string;
  /** Index of the case in the seed's sequence (-1: setup or the final probe). */
  readonly caseIndex: number;
  readonly family: string;
  readonly request: string;
  readonly answer: string;
  readonly detail: string;
}

export interface HttpCheckResult {
  readonly cases: number;
  readonly failures: HttpFailure[];
}

interface World {
  readonly sim: SimNode;
  readonly server: ShardServer;
  readonly nowMs: number;
  /** The version ids of the versioned bucket, as setUp was told them. */
  seeded: SeededVersions;
  /** A case injected disk faults: a failed commit may leave the last record unconfirmed, and close then says so (closeWorld). */
  faulted: boolean;
}

const NO_VERSIONS: SeededVersions = { docV1: '', docV2: '', goneV1: '', goneMarker: '', lockGov: '', lockComp: '', lockHeld: '' };

/** The node's owner (also the native API's and the control plane's key) and a second S3 user. */
const CHECK_USERS = new StaticUsers([
  { id: LEGACY_OWNER_ID, displayName: 'shardstore', ...CHECK_KEYS },
  { id: MALLORY_ID, displayName: 'mallory', ...MALLORY_KEYS },
]);

async function makeWorld(seed: number): Promise<World> {
  const sim = await SimNode.create(SMALL_CONFIG, seed);
  const nowMs = EPOCH_MS + (Math.abs(seed) % 86_400) * 1000;
  const server = createShardServer(
    sim.node,
    { logger: silentLogger, s3: { credentials: new Map([[CHECK_ACCESS_KEY, CHECK_SECRET_KEY]]), users: CHECK_USERS, now: () => nowMs, sweepOnStart: false, nodeKey: new StaticNodeKey(Buffer.alloc(32, 0x4e)) } },
    sim.node,
  );
  return { sim, server, nowMs, seeded: NO_VERSIONS, faulted: false };
}

/** What a case sees of the node: the disks' states, and the keys of the disks in service with value digests. */
async function snapshot(world: World): Promise<string> {
  await world.server.s3?.collector.idle();
  const node: ShardNode = world.sim.node;
  const lines: string[] = node.disks().map((d) => `disk ${d.disk}: ${d.state}`);
  let startAfter: Buffer | undefined;
  for (;;) {
    const page = await node.listAvailable(startAfter === undefined ? {} : { startAfter });
    for (const shard of page.shards) {
      const value = await node.get(shard.key);
      lines.push(`${readableKey(shard.key)} ${createHash('sha256').update(value).digest('hex').slice(0, 16)}`);
    }
    const last = page.shards.at(-1);
    if (!page.truncated || last === undefined) break;
    startAfter = last.key;
  }
  return lines.join('\n');
}

/** A key as text: printable ASCII as is, other bytes as \xNN (the S3 front's shard keys have a binary prefix). */
function readableKey(key: Buffer): string {
  return [...key].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

/** The error code an answer's body names (S3 XML <Code>, the native API's JSON error.code), if any. */
function errorCode(a: ParsedAnswer): string | undefined {
  const text = a.body.toString('utf8');
  return /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? /"code":"([^"]*)"/.exec(text)?.[1];
}

function describeAnswer(a: ParsedAnswer | undefined): string {
  if (a === undefined) return 'no answer';
  const code = errorCode(a);
  return `${a.status} ${a.reason}${code === undefined ? '' : ` (${code})`}`;
}

/** Invariant 5: the answer is one the model allows (cases.ts, Outcome). */
function meets(a: ParsedAnswer, method: string, outcome: Outcome): boolean {
  if (outcome === '2xx') return a.status >= 200 && a.status < 300;
  const [status, code] = outcome.split(' ');
  if (a.status !== Number(status)) return false;
  if (code === undefined || method === 'HEAD') return true;
  return errorCode(a) === code;
}

/** Invariant 2's second half: an error answer with a body names its code. */
function errorBodyProblem(a: ParsedAnswer, method: string): string | undefined {
  if (a.status < 400 || method === 'HEAD') return undefined;
  const type = a.headers.find(([n]) => n === 'content-type')?.[1] ?? '';
  const text = a.body.toString('utf8');
  if (a.body.length === 0) {
    // node's parser refuses malformed framing with a bare status and closes: nothing to name.
    return a.headers.some(([n, v]) => n === 'connection' && v === 'close') ? undefined : 'an error answer with an empty body';
  }
  if (type.includes('xml')) return /<Error>[\s\S]*<Code>[^<]+<\/Code>/.test(text) ? undefined : 'an S3 error without <Code>';
  if (type.includes('json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      const error = typeof parsed === 'object' && parsed !== null && 'error' in parsed ? parsed.error : undefined;
      return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? undefined : 'a JSON error without error.code';
    } catch (err: unknown) {
      return `a JSON error that does not parse: ${String(err)}`;
    }
  }
  return `an error answer of type ${JSON.stringify(type)}`;
}

interface Judged {
  readonly property: string;
  readonly detail: string;
}

/** Invariants 1 to 6 for one case; `broken` undefined when it holds them all. */
async function runCase(world: World, c: AttackCase): Promise<{ answer: string; broken: Judged | undefined }> {
  const before = c.mayChange ? '' : await snapshot(world);
  const { bytes, methods } = await c.build(world.nowMs, world.seeded);
  if (c.faults !== undefined) {
    world.faulted = true;
    c.faults(world.sim.disks);
  }
  const wire = await exchange(world.server.server, bytes, methods, TURN_BUDGET);
  for (const d of world.sim.disks) d.clearFaults();
  const parsed = parseAnswers(wire.bytes, methods);
  const answer = describeAnswer(parsed.answers[0]);
  const broken = judgeAnswers(c, wire, parsed, methods);
  if (c.mayChange) return { answer, broken };
  const after = await snapshot(world);
  if (after === before) return { answer, broken };
  const change = `the store changed:\n${diffLines(before, after)}`;
  // A wrong answer that also changed the store says both: what it answered, and what it did.
  if (broken !== undefined) return { answer, broken: { property: broken.property, detail: `${broken.detail}; ${change}` } };
  return { answer, broken: { property: c.property, detail: `refused (${answer}) but ${change}` } };
}

/** Invariants 1 to 5: the answers alone. */
function judgeAnswers(c: AttackCase, wire: WireResult, parsed: ParseOutcome, methods: readonly string[]): Judged | undefined {
  const first = parsed.answers[0];
  if (!wire.finished) return { property: 'no-hang', detail: `no end of the exchange after ${wire.turns} turns` };
  if (parsed.error !== undefined) return { property: 'well-formed-answer', detail: parsed.error };
  if (first === undefined) return { property: 'well-formed-answer', detail: 'the connection closed without an answer' };
  for (const [i, a] of parsed.answers.entries()) {
    const problem = errorBodyProblem(a, methods[i] ?? 'GET');
    if (problem !== undefined) return { property: 'well-formed-answer', detail: `answer ${i + 1}: ${problem}` };
    const cors = corsProblem(c, a, i);
    if (cors !== undefined) return cors;
  }
  const method = methods[0] ?? 'GET';
  // A 5xx is a failure of its own unless the model asks for exactly it (501: fail closed).
  if (first.status >= 500 && !c.expect.some((o) => o.startsWith(`${first.status}`))) return { property: 'no-5xx', detail: `status ${describeAnswer(first)}` };
  if (!c.expect.some((o) => meets(first, method, o))) return { property: c.property, detail: `expected ${c.expect.join(' or ')}, got ${describeAnswer(first)}` };
  if (c.body !== undefined && first.status < 300 && !first.body.equals(c.body)) {
    return { property: 'wrong-bytes', detail: `answered ${first.body.length} bytes ${JSON.stringify(first.body.subarray(0, 40).toString('latin1'))}, the value is ${JSON.stringify(c.body.toString('latin1'))}` };
  }
  return undefined;
}

/** Invariant 4: Access-Control-* headers exactly where a rule of the world allows the request's Origin. */
function corsProblem(c: AttackCase, a: ParsedAnswer, i: number): Judged | undefined {
  const names = a.headers.filter(([n]) => n.startsWith('access-control-')).map(([n]) => n);
  if (i === 0 && c.corsOrigin !== undefined && a.status < 300) {
    const allowOrigin = a.headers.find(([n]) => n === 'access-control-allow-origin')?.[1];
    return allowOrigin === c.corsOrigin ? undefined : { property: c.property, detail: `Access-Control-Allow-Origin ${JSON.stringify(allowOrigin ?? null)}, the rule allows ${c.corsOrigin}` };
  }
  if (names.length === 0) return undefined;
  // A CORS case names what a header there means (an origin or method the rule does not allow); elsewhere it is a header out of nowhere.
  return { property: c.family === 'cors' && i === 0 ? c.property : 'no-cors', detail: `answer ${i + 1} carries ${names.join(', ')}, but no CORS rule allows it` };
}

function diffLines(before: string, after: string): string {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const gone = [...a].filter((l) => !b.has(l)).map((l) => `  - ${l}`);
  const came = [...b].filter((l) => !a.has(l)).map((l) => `  + ${l}`);
  return [...gone, ...came].slice(0, 12).join('\n');
}

/** The world every seed starts from, made through the server itself with signed calls. */
async function setUp(world: World): Promise<HttpFailure | undefined> {
  const calls: Array<HttpCall | readonly [HttpCall, KeyPair]> = [
    call('PUT', '/alpha'),
    call('PUT', '/private'),
    call('PUT', '/empty'),
    ...SEEDED_OBJECTS.map((k) => call('PUT', `/alpha/${k}`, { body: Buffer.from(`object ${k}`) })),
    call('PUT', '/private/secret', { body: Buffer.from('the private object') }),
    call('PUT', `/alpha/${TAGGED_OBJECT}`, { body: Buffer.from('a tagged object'), headers: [['x-amz-tagging', new URLSearchParams(SEEDED_OBJECT_TAGS.map(([k, v]): [string, string] => [k, v])).toString()]] }),
    call('PUT', '/private', { query: [['tagging', '']], body: taggingXml(SEEDED_BUCKET_TAGS, false) }),
    call('PUT', '/alpha', { query: [['cors', '']], body: CORS_XML }),
    ...SEEDED_SHARDS.map((k) => call('PUT', `/v1/shards/${k}`, { body: Buffer.from(`shard ${k}`) })),
    call('PUT', `/${VERSIONED_BUCKET}`),
    call('PUT', `/${VERSIONED_BUCKET}`, { query: [['versioning', '']], body: Buffer.from('<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>') }),
    // The second version of doc is public-read, the first private (cases.ts, the object-acl family: a version's ACL is its own).
    ...DOC_BODIES.map((body, i) => call('PUT', `/${VERSIONED_BUCKET}/doc`, { body: Buffer.from(body), headers: i === 1 ? [['x-amz-acl', 'public-read']] : [] })),
    call('PUT', `/${VERSIONED_BUCKET}/gone`, { body: Buffer.from(GONE_BODY) }),
    call('DELETE', `/${VERSIONED_BUCKET}/gone`),
    // Access control (cases.ts, the access family): a bucket open by policy, one listable by its ACL, one of mallory's.
    call('PUT', '/open'),
    ...['pub/doc', 'pub/denied', 'closed'].map((k) => call('PUT', `/open/${k}`, { body: Buffer.from(`open ${k}`) })),
    call('PUT', '/open', { query: [['policy', '']], body: Buffer.from(OPEN_POLICY) }),
    call('PUT', '/listable', { headers: [['x-amz-acl', 'public-read']] }),
    call('PUT', '/listable/item', { body: Buffer.from('listable item') }),
    [call('PUT', '/mallory-own'), MALLORY_KEYS],
    // Object lock (cases.ts, the object-lock family): a lock bucket with one object per kind of protection.
    call('PUT', `/${LOCK_BUCKET}`, { headers: [['x-amz-bucket-object-lock-enabled', 'true']] }),
    ...LOCKED_OBJECTS.map(([key, headers]) => call('PUT', `/${LOCK_BUCKET}/${key}`, { body: Buffer.from(`locked ${key}`), headers: [...headers] })),
    // Encryption (cases.ts, the sse family): an SSE-C object and an SSE-S3 one.
    call('PUT', `/${VAULT}`),
    call('PUT', `/${VAULT}/c`, { body: SSE_C_BODY, headers: ssecHeaders(SSE_KEY_A) }),
    call('PUT', `/${VAULT}/s3`, { body: SSE_S3_BODY, headers: [['x-amz-server-side-encryption', 'AES256']] }),
    // ACL headers on object writes (cases.ts, the object-acl family).
    ...Object.entries(ACL_OBJECTS).map(([key, o]) => call('PUT', `/alpha/${key}`, { body: Buffer.from(o.body), headers: [o.header] })),
    call('PUT', `/${ENFORCED_BUCKET}`, { headers: [['x-amz-object-ownership', 'BucketOwnerEnforced']] }),
    call('PUT', `/${BLOCKED_BUCKET}`),
    call('PUT', `/${BLOCKED_BUCKET}`, { query: [['publicAccessBlock', '']], body: Buffer.from('<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>') }),
  ];
  const versionIds: string[] = [];
  const lockIds: string[] = [];
  for (const entry of calls) {
    const [c, keys] = 'method' in entry ? [entry, CHECK_KEYS] : entry;
    const wire = await exchange(world.server.server, serialize(await signHeader(c, world.nowMs, 'hash', keys)), [c.method], TURN_BUDGET);
    const first = parseAnswers(wire.bytes, [c.method]).answers[0];
    if (first === undefined || first.status >= 300) {
      return { property: 'well-formed-call-refused', caseIndex: -1, family: 'setup', request: `signed ${c.method} ${c.path}`, answer: describeAnswer(first), detail: 'the world could not be set up through the server' };
    }
    if (c.path.startsWith(`/${VERSIONED_BUCKET}/`)) versionIds.push(first.headers.find(([n]) => n === 'x-amz-version-id')?.[1] ?? '');
    if (c.path.startsWith(`/${LOCK_BUCKET}/`)) lockIds.push(first.headers.find(([n]) => n === 'x-amz-version-id')?.[1] ?? '');
  }
  const [docV1 = '', docV2 = '', goneV1 = '', goneMarker = ''] = versionIds;
  const [lockGov = '', lockComp = '', lockHeld = ''] = lockIds;
  world.seeded = { docV1, docV2, goneV1, goneMarker, lockGov, lockComp, lockHeld };
  return undefined;
}

/** Invariant 7: the node still answers a well-formed call after the attack. */
async function probe(world: World): Promise<HttpFailure | undefined> {
  const c = call('GET', '/alpha/a/one');
  const wire = await exchange(world.server.server, serialize(await signHeader(c, world.nowMs)), [c.method], TURN_BUDGET);
  const first = parseAnswers(wire.bytes, ['GET']).answers[0];
  if (first?.status === 200 && first.body.toString() === 'object a/one') return undefined;
  return { property: 'node-survives', caseIndex: -1, family: 'probe', request: 'signed GET /alpha/a/one after every case', answer: describeAnswer(first), detail: 'the node no longer serves a well-formed call' };
}

/**
 * Run one seed. Stops at the first failure unless `collectAll`; then each
 * failure is followed by a fresh world (set up again), so one broken
 * answer (a disk taken out, an object deleted) does not fail the cases after it.
 */
export function checkHttp(options: HttpCheckOptions): Promise<HttpCheckResult> {
  const total = Math.min(options.cases ?? CASES_PER_SEED, (options.lastCase ?? Infinity) + 1);
  const rng = new Rng(options.seed).fork('http-cases');
  return runCases(options.seed, total, () => nextCase(rng, options.families ?? []), { collectAll: options.collectAll === true, onCase: options.onCase });
}

/** Every case of `cases` against one seed's world, every failure collected (the full subresource walk). */
export function checkHttpCases(seed: number, cases: readonly AttackCase[]): Promise<HttpCheckResult> {
  return runCases(seed, cases.length, (i) => cases[i] ?? missingCase(i), { collectAll: true, onCase: undefined });
}

function missingCase(i: number): never {
  throw new RangeError(`no case ${i}`);
}

interface RunOptions {
  readonly collectAll: boolean;
  readonly onCase: HttpCheckOptions['onCase'];
}

async function runCases(seed: number, total: number, next: (i: number) => AttackCase, { collectAll, onCase }: RunOptions): Promise<HttpCheckResult> {
  const failures: HttpFailure[] = [];
  let world = await makeWorld(seed);
  let ran = 0;
  try {
    const setupFailure = await setUp(world);
    if (setupFailure !== undefined) return { cases: 0, failures: [setupFailure] };
    for (let i = 0; i < total; i++) {
      const c = next(i);
      const { answer, broken } = await runCase(world, c);
      onCase?.(i, c, answer);
      ran++;
      if (broken !== undefined) {
        failures.push({ property: broken.property, caseIndex: i, family: c.family, request: c.describe, answer, detail: broken.detail });
        if (!collectAll) return { cases: ran, failures };
      } else if (c.faults === undefined) {
        continue;
      }
      // After a failure, or a fault that may have taken a disk out or turned it read-only: the next case starts from the model's world.
      await closeWorld(world);
      world = await makeWorld(seed);
      await setUp(world);
    }
    const survived = await probe(world);
    if (survived !== undefined) failures.push(survived);
    return { cases: ran, failures };
  } finally {
    await closeWorld(world);
  }
}

async function closeWorld(world: World): Promise<void> {
  await world.server.close();
  try {
    await world.sim.node.close();
  } catch (err: unknown) {
    // After an injected flush fault a store whose last record stayed unconfirmed closes loudly (DiskStore.close): the
    // engine's contract, not a finding of this check, which judges answers. Anything else still fails the seed.
    if (!(world.faulted && err instanceof IoError && err.message.startsWith('closed without confirming'))) throw err;
  }
}

export function describeFailure(f: HttpFailure): string {
  return [`case ${f.caseIndex} (${f.family}): ${f.property}`, `  sent:     ${f.request}`, `  answered: ${f.answer}`, `  ${f.detail.replace(/\n/g, '\n  ')}`].join('\n');
}
