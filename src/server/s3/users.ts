// S3 users (docs/S3.md, "Users"): who a signed request comes from.
//
// The credentials file (credentials.ts) holds sections of two kinds:
//   - a section with `shardstore_canonical_id = <64 hex>` is a user of its
//     own: that canonical id, its section name as display name
//     (`shardstore user add` writes these);
//   - a section without one is a key of the node's owner, the one user a
//     store had before users existed (canonical id LEGACY_OWNER_ID, display
//     name "shardstore"). Every bucket without an access record is the
//     node owner's (access_records.ts), so an existing store keeps working
//     unchanged; the native API and the control plane take only these keys.
//
// Reload: FileUsers looks at the file (stat) on every request and re-reads
// it when its inode, size or modification time changed, so `shardstore user
// add|remove` takes effect at the next request, with no signal. A file that
// cannot be read or parsed any more is no user at all (fail closed: every
// signed request answers InvalidAccessKeyId until it is fixed), logged once
// per change.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import type { S3Credentials } from './credentials.js';
import { parseCredentialsFile } from './credentials.js';

export interface User {
  /** Canonical user id: 64 lower-case hex digits. */
  readonly id: string;
  readonly displayName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The owner of every store made before users: its id is what the single-owner server always answered. */
export const LEGACY_OWNER_ID = createHash('sha256').update('shardstore-owner').digest('hex');
export const LEGACY_OWNER_NAME = 'shardstore';

const CANONICAL_ID = /^[0-9a-f]{64}$/;

export function isCanonicalId(text: string): boolean {
  return CANONICAL_ID.test(text);
}

/** The users of a parsed credentials file. Throws TypeError for a malformed canonical id or an access key used twice. */
export function usersOf(credentials: readonly S3Credentials[]): User[] {
  const seen = new Set<string>();
  return credentials.map((c) => {
    if (seen.has(c.accessKeyId)) throw new TypeError(`access key id ${c.accessKeyId} appears twice`);
    seen.add(c.accessKeyId);
    if (c.canonicalId === undefined) return { id: LEGACY_OWNER_ID, displayName: LEGACY_OWNER_NAME, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
    if (!isCanonicalId(c.canonicalId)) throw new TypeError(`section [${c.section ?? ''}]: shardstore_canonical_id must be 64 lower-case hex digits`);
    return { id: c.canonicalId, displayName: c.section ?? c.canonicalId, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  });
}

/** The users as one request sees them. */
export class UserSet {
  private readonly byKey: ReadonlyMap<string, User>;
  private readonly byId: ReadonlyMap<string, User>;

  constructor(readonly users: readonly User[]) {
    this.byKey = new Map(users.map((u) => [u.accessKeyId, u]));
    this.byId = new Map(users.map((u) => [u.id, u]));
  }

  byAccessKey(accessKeyId: string): User | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** The display name of a canonical id (the id itself for a user no longer in the file). */
  displayName(id: string): string {
    return this.byId.get(id)?.displayName ?? (id === LEGACY_OWNER_ID ? LEGACY_OWNER_NAME : id);
  }
}

/** Where the S3 front gets its users, once per request. */
export interface UserDirectory {
  current(): Promise<UserSet>;
}

/** A fixed set (keys given on the command line or in tests). */
export class StaticUsers implements UserDirectory {
  private readonly set: UserSet;

  constructor(users: readonly User[]) {
    this.set = new UserSet(users);
  }

  /** Every key of a key id -> secret map is the node owner's (the single-owner server's meaning). */
  static ofOwnerKeys(keys: ReadonlyMap<string, string>): StaticUsers {
    return new StaticUsers([...keys].map(([accessKeyId, secretAccessKey]) => ({ id: LEGACY_OWNER_ID, displayName: LEGACY_OWNER_NAME, accessKeyId, secretAccessKey })));
  }

  current(): Promise<UserSet> {
    return Promise.resolve(this.set);
  }
}

/** The credentials file, re-read whenever it changed (see the header). */
export class FileUsers implements UserDirectory {
  private stamp = '';
  private set = new UserSet([]);
  private loading: Promise<UserSet> | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {}

  async current(): Promise<UserSet> {
    const stamp = await this.stampOf();
    if (stamp === this.stamp) return this.set;
    this.loading ??= this.reload(stamp).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async stampOf(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (err) {
      return `unreadable: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private async reload(stamp: string): Promise<UserSet> {
    try {
      const users = usersOf(parseCredentialsFile(await readFile(this.file, 'utf8')));
      this.set = new UserSet(users);
      this.logger.log('info', 's3 users loaded', { file: this.file, users: new Set(users.map((u) => u.id)).size, keys: users.length });
    } catch (err) {
      this.set = new UserSet([]);
      this.logger.log('error', 's3 credentials file unusable: every signed request is refused until it is fixed', { file: this.file, error: err });
    }
    this.stamp = stamp;
    return this.set;
  }
}
