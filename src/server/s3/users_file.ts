// Changes to the credentials file for `shardstore user add|list|remove`
// (users.ts says what its sections mean).
//
// The file is rewritten whole, atomically: a new file beside it (mode 0600,
// created exclusively), fsynced, then renamed over the old one, so a reader
// (the server's per-request check) sees the old file or the new one, never
// half of one. Lines of sections not touched are kept as they were.
// REQUIRES: one writer at a time (the CLI is the only writer; two `user`
// commands racing can lose one change: the last rename wins).
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { S3Credentials } from './credentials.js';
import { generateCredentials, parseCredentialsFile, writeNewFile } from './credentials.js';
import { usersOf } from './users.js';
import type { User } from './users.js';

/** A user's name: a section name both the AWS tools and our parser read alike. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateUserName(name: string): void {
  if (!USER_NAME.test(name)) throw new TypeError(`user name ${JSON.stringify(name)}: 1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit`);
}

/** The users of the file, in file order (keys of the node's owner included). */
export async function listUsers(file: string): Promise<User[]> {
  return usersOf(parseCredentialsFile(await readFile(file, 'utf8')));
}

/** Add a user with a new key pair and canonical id. Throws TypeError if the name is taken or the file is missing. */
export async function addUser(file: string, name: string): Promise<User> {
  validateUserName(name);
  const text = await readFile(file, 'utf8');
  const existing = parseCredentialsFile(text);
  if (sectionNames(text).includes(name)) throw new TypeError(`a section [${name}] already exists in ${file}`);
  const keys = generateCredentials();
  const credentials: S3Credentials = { ...keys, section: name, canonicalId: randomBytes(32).toString('hex') };
  const [user] = usersOf([...existing, credentials]).slice(-1);
  if (user === undefined) throw new Error('the new user is missing');
  const section = `[${name}]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\nshardstore_canonical_id = ${credentials.canonicalId ?? ''}\n`;
  await replaceFile(file, `${text.replace(/\n*$/, '\n')}\n${section}`);
  return user;
}

/**
 * Remove the user's section. Only users of their own (with a canonical id)
 * can be removed: the node owner's keys also sign the native API and the
 * control plane, which read them at start, so they are edited by hand and
 * the server restarted. Throws TypeError.
 */
export async function removeUser(file: string, name: string): Promise<User> {
  const text = await readFile(file, 'utf8');
  const credentials = parseCredentialsFile(text);
  const index = credentials.findIndex((c) => c.section === name);
  const user = usersOf(credentials)[index];
  if (user === undefined) throw new TypeError(`no user [${name}] in ${file}`);
  if (credentials[index]?.canonicalId === undefined) {
    throw new TypeError(`[${name}] holds a key of the node's owner (no shardstore_canonical_id): edit ${file} and restart the server instead`);
  }
  await replaceFile(file, withoutSection(text, name));
  return user;
}

function sectionNames(text: string): string[] {
  return [...text.matchAll(/^\s*\[\s*([^\]]*?)\s*\]\s*$/gm)].map((m) => m[1] ?? '');
}

/** The text without the lines of section `name` (its header up to the next section). */
function withoutSection(text: string, name: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    const header = /^\s*\[\s*([^\]]*?)\s*\]\s*$/.exec(line);
    if (header !== null) skipping = header[1] === name;
    if (!skipping) out.push(line);
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

async function replaceFile(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeNewFile(temporary, text);
    const handle = await open(temporary, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (err) {
    // The temporary file may not exist (the write failed first); the original error is the one to report.
    await unlink(temporary).catch((cleanup: unknown) => void cleanup);
    throw err;
  }
}
