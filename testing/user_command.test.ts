// `shardstore user add|list|remove` (src/cli/user_command.ts).
//
// Strategy: the command runs in-process on a credentials file in a
// temporary folder, as `serve` wrote it; each step reads the file back with
// the parser the server uses (usersOf), so what the CLI claims is what a
// server would see. Mistakes are one-line usage errors (exit 2) that leave
// the file as it was.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../src/cli/index.js';
import type { CliIo } from '../src/cli/index.js';
import { LEGACY_OWNER_ID, parseCredentialsFile, usersOf } from '../src/server/index.js';

function capture(env: NodeJS.ProcessEnv = {}): CliIo & { readonly out: (l: string) => void; readonly lines: string[]; readonly errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => errors.push(l), env, lines, errors };
}

const OWNER_SECTION = '# written by serve\n[default]\naws_access_key_id = SSOWNERKEY0000000001\naws_secret_access_key = owner/secret\n';

function withFile(run: (file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-user-cli-'));
  const file = join(dir, 'credentials');
  writeFileSync(file, OWNER_SECTION, { mode: 0o600 });
  return run(file).finally(() => rmSync(dir, { recursive: true, force: true }));
}

void test('user add prints the new key pair once, keeps the file 0600 and the owner\'s section as it was; list and remove see it', () =>
  withFile(async (file) => {
    const add = capture();
    assert.equal(await runCli(['user', 'add', 'alice', '--credentials-file', file], add), 0, add.errors.join('\n'));
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith(OWNER_SECTION), 'the lines before stay as they were');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const users = usersOf(parseCredentialsFile(text));
    assert.equal(users.length, 2);
    const [owner, alice] = users;
    assert.equal(owner?.id, LEGACY_OWNER_ID);
    assert.ok(alice !== undefined && /^[0-9a-f]{64}$/.test(alice.id) && alice.displayName === 'alice');
    const shown = add.lines.join('\n');
    assert.ok(shown.includes(alice.accessKeyId) && shown.includes(alice.secretAccessKey) && shown.includes(alice.id), shown);
    // list: names, key ids and canonical ids, never a secret.
    const list = capture();
    assert.equal(await runCli(['user', 'list', '--credentials-file', file], list), 0);
    assert.deepEqual(list.lines, [`shardstore\tSSOWNERKEY0000000001\t${LEGACY_OWNER_ID}`, `alice\t${alice.accessKeyId}\t${alice.id}`]);
    assert.ok(!list.lines.join('\n').includes(alice.secretAccessKey));
    // Two users never share an id or a key.
    assert.equal(await runCli(['user', 'add', 'bob', '--credentials-file', file], capture()), 0);
    const after = usersOf(parseCredentialsFile(readFileSync(file, 'utf8')));
    assert.equal(new Set(after.map((u) => u.id)).size, 3);
    assert.equal(new Set(after.map((u) => u.accessKeyId)).size, 3);
    const remove = capture();
    assert.equal(await runCli(['user', 'remove', 'alice', '--credentials-file', file], remove), 0, remove.errors.join('\n'));
    assert.deepEqual(usersOf(parseCredentialsFile(readFileSync(file, 'utf8'))).map((u) => u.displayName), ['shardstore', 'bob']);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  }));

void test('user: mistakes are one-line usage errors (exit 2) and change nothing', () =>
  withFile(async (file) => {
    assert.equal(await runCli(['user', 'add', 'alice', '--credentials-file', file], capture()), 0);
    const before = readFileSync(file, 'utf8');
    const cases: Array<[string[], RegExp]> = [
      [['user'], /expected add, list or remove/],
      [['user', 'add'], /add needs a user name/],
      [['user', 'add', 'no spaces allowed'], /user name/],
      [['user', 'add', 'alice'], /already exists/],
      [['user', 'add', 'default'], /already exists/],
      [['user', 'remove', 'nobody'], /no user \[nobody\]/],
      [['user', 'remove', 'default'], /node's owner/],
      [['user', 'list', 'extra'], /list takes no name/],
      [['user', 'frobnicate'], /expected add, list or remove/],
    ];
    for (const [argv, message] of cases) {
      const io = capture();
      assert.equal(await runCli([...argv, '--credentials-file', file], io), 2, argv.join(' '));
      assert.equal(io.errors.length, 1, `${argv.join(' ')}: ${io.errors.join(' | ')}`);
      assert.match(io.errors[0] ?? '', message);
    }
    assert.equal(readFileSync(file, 'utf8'), before);
    const missing = capture();
    assert.equal(await runCli(['user', 'list', '--credentials-file', join(file, '..', 'nothing-here')], missing), 2);
    assert.match(missing.errors[0] ?? '', /no credentials file/);
  }));

void test('user takes the credentials file from $SHARDSTORE_CREDENTIALS_FILE when no flag names one', () =>
  withFile(async (file) => {
    assert.equal(await runCli(['user', 'add', 'carol'], capture({ SHARDSTORE_CREDENTIALS_FILE: file })), 0);
    assert.ok(readFileSync(file, 'utf8').includes('[carol]'));
  }));
