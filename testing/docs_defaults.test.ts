// tier: quick (npm run test:quick; docs/TESTING.md)
// The docs say what runs: serve's defaults in README.md and docs/*.md are
// generated from its option table (scripts/docs_options.ts), and the error
// example of docs/API.md is what the server answers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { docFiles, renderDefaults } from '../scripts/docs_options.js';
import { serveHelp } from '../src/cli/index.js';
import { createShardServer, silentLogger } from '../src/server/index.js';
import { ShardNode } from '../src/node/index.js';

const ROOT = join(import.meta.dirname, '..');

void test('every default the docs state comes from serve\'s option table (npm run docs:options is up to date)', () => {
  // Checks each doc file renders to itself with nothing stale; and that the
  // generated parts are there at all (API.md's table, S3.md's and README's disk size).
  const stale = docFiles().flatMap((file) => renderDefaults(file, readFileSync(join(ROOT, file), 'utf8')).stale);
  assert.deepEqual(stale, [], 'run `npm run docs:options`');
  assert.match(readFileSync(join(ROOT, 'docs', 'API.md'), 'utf8'), /<!-- serve-options:begin -->\n\| Flag /);
  for (const file of ['README.md', join('docs', 'S3.md')]) assert.match(readFileSync(join(ROOT, file), 'utf8'), /<!-- default:disk-size -->/);
  assert.match(serveHelp(), /--disk-size <size> .*\[default: 16GiB\]/);
});

void test('the docs check catches the S3.md of before: a default disk of 1 GiB while serve creates 16GiB', () => {
  // The broken variant is the text that shipped: rendered, the check names
  // the file, the option and both values.
  const before = 'The default disk is <!-- default:disk-size -->1GiB<!-- /default --> (`--disk-size`).';
  const out = renderDefaults('docs/S3.md', before);
  assert.deepEqual(out.stale, ['docs/S3.md: the default of --disk-size is written "1GiB"; serve\'s is "16GiB"']);
  assert.equal(out.text, 'The default disk is <!-- default:disk-size -->16GiB<!-- /default --> (`--disk-size`).');
  const table = renderDefaults('docs/API.md', '<!-- serve-options:begin -->\n| `--disk-size` | `SHARDSTORE_DISK_SIZE` | `1GiB` |\n<!-- serve-options:end -->');
  assert.deepEqual(table.stale, ['docs/API.md: the serve option table differs from serve\'s option table']);
  assert.deepEqual(renderDefaults('x.md', '<!-- default:no-such -->1<!-- /default -->').stale, ['x.md: <!-- default:no-such --> names no serve option with a default']);
});

void test("docs/API.md's error example is the server's answer, byte for byte", async () => {
  // GET of the absent key of the example, on a real node and server.
  const example = /## Errors[\s\S]*?```json\n(.*)\n```/.exec(readFileSync(join(ROOT, 'docs', 'API.md'), 'utf8'))?.[1] ?? '';
  const key = /no shard \\"([^\\]+)\\"/.exec(example)?.[1];
  assert.ok(key !== undefined, example);
  const dir = mkdtempSync(join(tmpdir(), 'shardstore-docs-'));
  const node = await ShardNode.openOrCreate({ dataDir: dir, disks: 1, diskSizeBytes: 64 * 1024 * 1024, extentSizeBytes: 1024 * 1024 });
  const server = createShardServer(node, { logger: silentLogger, insecureNoAuth: true });
  try {
    const { port } = await server.listen(0, '127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${port}/v1/shards/${key}`);
    assert.equal(res.status, 404);
    assert.equal(await res.text(), example);
  } finally {
    await server.close();
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
