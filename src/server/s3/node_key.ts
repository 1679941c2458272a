// The node key of SSE-S3 (docs/SECURITY.md, "Encryption keys"): one
// AES-256 key per node that wraps each SSE-S3 object's data key. It lives
// in a file beside the credentials file, `node.key`, mode 0600, generated
// the first time an object is encrypted with SSE-S3 (a node that never
// encrypts has no key file), and is never logged.
//
// File format (41 bytes; DO NOT CHANGE: on-disk):
//   u32 magic "SSNK" (little-endian), u8 version (1), 32 bytes key, u32 crc32c of the bytes before it
//
// Losing the file makes every SSE-S3 object of the node unreadable: there
// is no other copy. A damaged file is a CorruptionError, never a new key.
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BufReader, BufWriter, CorruptionError, assert, crc32c } from '../../base/index.js';
import { DATA_KEY_BYTES, KEY_ID_BYTES } from './sse_format.js';

const NODE_KEY_MAGIC = 0x4b4e5353; // "SSNK" little-endian
const FORMAT_V1 = 1;
const FILE_BYTES = 4 + 1 + DATA_KEY_BYTES + 4;
/** The file's name, in the credentials file's folder. */
export const NODE_KEY_FILE_NAME = 'node.key';

export interface NodeKey {
  readonly key: Buffer;
  /** Names the key in each object's section, so a wrong key file is told from damaged data. */
  readonly id: Buffer;
}

/** Where SSE-S3 gets the node key. */
export interface NodeKeySource {
  /** The key; `create`: generate and store it durably if there is none yet (else undefined). */
  get(create: boolean): Promise<NodeKey | undefined>;
}

export function nodeKeyOf(key: Buffer): NodeKey {
  assert(key.length === DATA_KEY_BYTES, 'a node key is 32 bytes');
  const id = createHash('sha256').update('shardstore node key id\0').update(key).digest().subarray(0, KEY_ID_BYTES);
  return { key, id };
}

/** A key given whole (tests, embedders that keep it elsewhere). */
export class StaticNodeKey implements NodeKeySource {
  private readonly value: NodeKey;

  constructor(key: Buffer) {
    this.value = nodeKeyOf(Buffer.from(key));
  }

  get(): Promise<NodeKey> {
    return Promise.resolve(this.value);
  }
}

/** The key file beside the credentials file (serve). Loaded once, then kept in memory. */
export class FileNodeKey implements NodeKeySource {
  private loaded: Promise<NodeKey | undefined> | undefined;
  private creating: Promise<NodeKey> | undefined;

  constructor(readonly path: string) {}

  static besideCredentials(credentialsFile: string): FileNodeKey {
    return new FileNodeKey(join(dirname(credentialsFile), NODE_KEY_FILE_NAME));
  }

  async get(create: boolean): Promise<NodeKey | undefined> {
    this.loaded ??= this.read();
    let key: NodeKey | undefined;
    try {
      key = await this.loaded;
    } catch (err) {
      this.loaded = undefined; // looked at again next time (the operator may fix the file's mode)
      throw err;
    }
    if (key === undefined && create) {
      // One creation at a time: concurrent first writers share it.
      this.creating ??= this.create().finally(() => {
        this.creating = undefined;
      });
      key = await this.creating;
      this.loaded = Promise.resolve(key);
    }
    return key;
  }

  private async read(): Promise<NodeKey | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'ENOENT') {
        this.loaded = undefined; // looked again next time: the operator may restore it
        return undefined;
      }
      throw err;
    }
    const mode = (await stat(this.path)).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`${this.path} can be read by other users (mode ${mode.toString(8)}); chmod 600 it (docs/SECURITY.md, "Encryption keys")`);
    return nodeKeyOf(decodeNodeKeyFile(bytes, this.path));
  }

  private async create(): Promise<NodeKey> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(encodeNodeKeyFile(randomBytes(DATA_KEY_BYTES)));
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      // link, not rename: a key file that appeared meanwhile is kept, never replaced.
      await link(temporary, this.path);
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
    } finally {
      await unlink(temporary);
    }
    const dir = await open(dirname(this.path), 'r');
    try {
      await dir.sync(); // the key is durable before any object it wraps
    } finally {
      await dir.close();
    }
    const key = await this.read();
    if (key === undefined) throw new Error(`${this.path} vanished after it was written`);
    return key;
  }
}

export function encodeNodeKeyFile(key: Buffer): Buffer {
  assert(key.length === DATA_KEY_BYTES, 'a node key is 32 bytes');
  const w = new BufWriter(FILE_BYTES).u32(NODE_KEY_MAGIC).u8(FORMAT_V1).bytes(key);
  w.u32(crc32c(w.view()));
  return w.finish();
}

export function decodeNodeKeyFile(bytes: Buffer, what = 'node key file'): Buffer {
  if (bytes.length !== FILE_BYTES) throw new CorruptionError(`${what}: ${bytes.length} bytes, expected ${FILE_BYTES}`);
  const body = bytes.subarray(0, FILE_BYTES - 4);
  if (crc32c(body) !== bytes.readUInt32LE(FILE_BYTES - 4)) throw new CorruptionError(`${what}: checksum mismatch`);
  const r = new BufReader(body, what);
  if (r.u32() !== NODE_KEY_MAGIC) throw new CorruptionError(`${what}: bad magic`);
  const version = r.u8();
  if (version !== FORMAT_V1) throw new CorruptionError(`${what}: unknown format version ${version}`);
  const key = Buffer.from(r.bytes(DATA_KEY_BYTES));
  r.expectEnd();
  return key;
}
