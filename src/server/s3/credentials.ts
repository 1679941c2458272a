// S3 credentials: from the environment or the serve options, else from a
// credentials file under the data folder, else generated on first start,
// written there (mode 0600) and shown once by the caller.
//
// The file is in the AWS shared-credentials format, so a client can use it
// as it is (AWS_SHARED_CREDENTIALS_FILE=data/credentials); every section
// with both keys is one accepted credential:
//   [default]
//   aws_access_key_id = ...
//   aws_secret_access_key = ...
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The file's section name (users.ts: a user's display name). */
  readonly section?: string;
  /** `shardstore_canonical_id`: a user of its own (users.ts); absent: a key of the node's owner. */
  readonly canonicalId?: string;
}

export type CredentialSource = 'configured' | 'file' | 'generated';

export interface LoadedCredentials {
  readonly credentials: readonly S3Credentials[];
  readonly source: CredentialSource;
  /** Things the operator should hear about (a file others can read). */
  readonly warnings: readonly string[];
}

export interface CredentialOptions {
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  readonly file: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export async function loadOrCreateCredentials(options: CredentialOptions): Promise<LoadedCredentials> {
  const { accessKeyId, secretAccessKey, file } = options;
  if (accessKeyId !== undefined || secretAccessKey !== undefined) {
    if (accessKeyId === undefined || secretAccessKey === undefined || accessKeyId === '' || secretAccessKey === '') {
      throw new TypeError('an S3 access key id needs its secret access key, and the other way round');
    }
    return { credentials: [{ accessKeyId, secretAccessKey }], source: 'configured', warnings: [] };
  }
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    const credentials = parseCredentialsFile(text);
    if (credentials.length === 0) throw new TypeError(`${file} holds no aws_access_key_id / aws_secret_access_key pair`);
    const mode = (await stat(file)).mode & 0o777;
    const warnings = (mode & 0o077) !== 0 ? [`${file} can be read by other users (mode ${mode.toString(8)}); chmod 600 it`] : [];
    return { credentials, source: 'file', warnings };
  }
  // Named as the file names it, so the first start and the next ones load the same value.
  const generated: S3Credentials = { ...generateCredentials(), section: 'default' };
  await writeNewFile(file, formatCredentialsFile([generated], new Date()));
  return { credentials: [generated], source: 'generated', warnings: [] };
}

export function generateCredentials(): S3Credentials {
  // 20 characters like AWS's (AKIA + 16), with our own prefix; 40-character secrets likewise.
  const id = [...randomBytes(18)].map((b) => BASE32[b & 31] ?? 'A').join('');
  return { accessKeyId: 'SS' + id, secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x') };
}

export function parseCredentialsFile(text: string): S3Credentials[] {
  const out: S3Credentials[] = [];
  let section: { name?: string; id?: string; secret?: string; canonicalId?: string } = {};
  const flush = (name?: string): void => {
    if (section.id !== undefined && section.secret !== undefined) {
      out.push({
        accessKeyId: section.id,
        secretAccessKey: section.secret,
        ...(section.name !== undefined ? { section: section.name } : {}),
        ...(section.canonicalId !== undefined ? { canonicalId: section.canonicalId } : {}),
      });
    }
    section = name === undefined ? {} : { name };
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      flush(line.replace(/^\[\s*|\s*\]$/g, ''));
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const [name, value] = [line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim()];
    if (name === 'aws_access_key_id') section.id = value;
    if (name === 'aws_secret_access_key') section.secret = value;
    if (name === 'shardstore_canonical_id') section.canonicalId = value;
  }
  flush();
  return out;
}

export function formatCredentialsFile(credentials: readonly S3Credentials[], created: Date): string {
  const sections = credentials.map((c, i) => `[${i === 0 ? 'default' : `key${i}`}]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\n`);
  return `# ShardStore S3 credentials, generated ${created.toISOString()}. Keep this file private.\n${sections.join('\n')}`;
}

/** Write `text` to a file that must not exist yet, readable by its owner only, atomically. */
export async function writeNewFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
}
