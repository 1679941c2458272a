// `npm run docs:options`: one truth for serve's defaults. The option table
// of src/cli/serve_options.ts (which --help prints and parsing reads) is
// written into the docs:
//   - between `<!-- serve-options:begin -->` and `<!-- serve-options:end -->`
//     (docs/API.md): the whole table of flags, variables and defaults;
//   - every `<!-- default:NAME -->TEXT<!-- /default -->` in README.md and
//     docs/*.md: TEXT becomes the default of --NAME, so prose that states a
//     default ("16GiB by default") cannot drift from what runs.
// `--check` writes nothing and exits 1 naming each stale place
// (testing/docs_defaults.test.ts runs the same check).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serveOptionDefault, serveOptionsMarkdown } from '../src/cli/serve_options.js';

const ROOT = join(import.meta.dirname, '..');
const TABLE = /(<!-- serve-options:begin -->\n)([\s\S]*?)(<!-- serve-options:end -->)/g;
const SPAN = /<!-- default:([a-z0-9-]+) -->(.*?)<!-- \/default -->/g;

/** The documentation files that may state serve's defaults. */
export function docFiles(root = ROOT): string[] {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
}

/** `text` with its generated parts brought up to date, and one line per part that was stale (or names no option). */
export function renderDefaults(file: string, text: string): { text: string; stale: string[] } {
  const stale: string[] = [];
  const table = serveOptionsMarkdown() + '\n';
  let out = text.replace(TABLE, (_all, begin: string, body: string, end: string) => {
    if (body !== table) stale.push(`${file}: the serve option table differs from serve's option table`);
    return begin + table + end;
  });
  out = out.replace(SPAN, (all, name: string, shown: string) => {
    const value = serveOptionDefault(name);
    if (value === undefined) {
      stale.push(`${file}: <!-- default:${name} --> names no serve option with a default`);
      return all;
    }
    if (shown !== value) stale.push(`${file}: the default of --${name} is written ${JSON.stringify(shown)}; serve's is ${JSON.stringify(value)}`);
    return `<!-- default:${name} -->${value}<!-- /default -->`;
  });
  return { text: out, stale };
}

function main(check: boolean): number {
  const stale: string[] = [];
  for (const file of docFiles()) {
    const path = join(ROOT, file);
    const before = readFileSync(path, 'utf8');
    const after = renderDefaults(file, before);
    stale.push(...after.stale);
    if (!check && after.text !== before) writeFileSync(path, after.text);
  }
  for (const line of stale) process.stderr.write(`${check ? 'stale' : 'updated'}: ${line}\n`);
  return check && stale.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) process.exitCode = main(process.argv.includes('--check'));
