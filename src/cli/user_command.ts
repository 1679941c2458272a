// `shardstore user add|list|remove`: the S3 users of a node's credentials
// file (server/s3/users.ts says what a user is). The file is changed
// atomically and stays mode 0600; a running server sees the change at its
// next request (it looks at the file on every request), with no restart.
//
// A new user's secret is shown once, by `add`; `list` never shows secrets.
import { addUser, listUsers, removeUser } from '../server/index.js';
import type { User } from '../server/index.js';
import { CREDENTIALS_OPTION, credentialsFileOf, parseFlags } from './admin_target.js';
import type { AdminOptionSpec } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { EXIT_OK, UsageError } from './usage_error.js';

const OPTIONS: readonly AdminOptionSpec[] = [{ ...CREDENTIALS_OPTION, help: 'the credentials file to change (default $SHARDSTORE_CREDENTIALS_FILE, else ./data/credentials, as for serve)' }];

export function userHelp(): string {
  return [
    'Usage: shardstore user add <name> | list | remove <name> [--credentials-file <file>]',
    '',
    'Manage the S3 users of a node: each user has its own key pair and canonical id,',
    'owns the buckets it creates, and sees only those (unless an ACL or a bucket policy',
    'grants more). A running server picks up changes at its next request.',
    '',
    '  add <name>      add a user; prints its access key id, secret (shown once) and canonical id',
    '  list            list the users: name, access key id, canonical id (never secrets)',
    '  remove <name>   remove a user added with `add` (the node owner\'s keys are edited by hand)',
    '',
    'Options:',
    ...OPTIONS.map((o) => `  ${`--${o.name} <${o.value ?? ''}>`.padEnd(26)}${o.help}`),
    `  ${'-h, --help'.padEnd(26)}show this help`,
  ].join('\n');
}

function describeUser(name: string, u: User): string {
  return `${name}\t${u.accessKeyId}\t${u.id}`;
}

/** TypeError (a name taken or unknown, a malformed file) and a missing file are the caller's mistakes: one-line usage errors. */
async function asUsage<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') throw new UsageError(`no credentials file ${file} (start the server once, or give --credentials-file)`);
    throw err;
  }
}

export const userCommand: Command = {
  summary: 'add, list or remove the S3 users of the node (its credentials file)',
  help: userHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags, positionals } = parseFlags(argv, OPTIONS, true);
    if (flags['help'] === true) {
      io.out(userHelp());
      return EXIT_OK;
    }
    const file = credentialsFileOf(flags, io.env);
    const [action, name, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (action === 'list') {
      if (name !== undefined) throw new UsageError('list takes no name');
      const users = await asUsage(file, () => listUsers(file));
      for (const u of users) io.out(describeUser(u.displayName, u));
      return EXIT_OK;
    }
    if (action !== 'add' && action !== 'remove') throw new UsageError(`expected add, list or remove, got ${JSON.stringify(action ?? '')}`);
    if (name === undefined) throw new UsageError(`${action} needs a user name`);
    if (action === 'remove') {
      const removed = await asUsage(file, () => removeUser(file, name));
      io.out(`removed user ${name} (access key id ${removed.accessKeyId}); a running server refuses its key from its next request`);
      return EXIT_OK;
    }
    const user = await asUsage(file, () => addUser(file, name));
    io.out(
      [
        `added user ${name} to ${file} (shown once):`,
        `  access key id:     ${user.accessKeyId}`,
        `  secret access key: ${user.secretAccessKey}`,
        `  canonical id:      ${user.id}`,
      ].join('\n'),
    );
    return EXIT_OK;
  },
};
