// The lint rule against wall-clock waits in tests (eslint.config.js; docs/TESTING.md,
// "No wall-clock waits"). Checks, with the project's own ESLint config on
// planted test files (linted from text, never written to the tree; the
// type-aware rules off, as a planted file is in no program), that
// each form of a sleep is reported by the rule that must report it, that the
// allowed forms (a hang bound through testing/hang_bound.ts, a virtual
// clock, setImmediate) are not, and that the rule also covers test helpers
// and tests beside the code in src/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = join(import.meta.dirname, '..');
// The project's config, with the type-aware rules off: a planted file is in
// no tsconfig program, and the rules under test need no types.
const eslint = new ESLint({ cwd: ROOT, overrideConfig: tseslint.configs.disableTypeChecked });

/** The rule ids reported for `code` linted as if it were the file `path` (relative to the root). */
async function rulesFor(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  assert.ok(result !== undefined);
  const fatal = result.messages.filter((m) => m.fatal === true);
  assert.deepEqual(fatal, [], 'the planted file parses');
  return result.messages.map((m) => m.ruleId ?? 'none').sort();
}

const PLANTED: ReadonlyArray<{ name: string; code: string; rule: string }> = [
  { name: 'a sleep built on setTimeout', code: "export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));\n", rule: 'no-restricted-syntax' },
  { name: 'a polling timer', code: 'export const poll = (f: () => void): NodeJS.Timeout => setInterval(f, 10);\n', rule: 'no-restricted-syntax' },
  { name: 'globalThis.setTimeout', code: 'export const later = (f: () => void): unknown => globalThis.setTimeout(f, 5);\n', rule: 'no-restricted-syntax' },
  { name: 'timers/promises sleep', code: "import { setTimeout as sleep } from 'node:timers/promises';\nexport const wait = (): Promise<void> => sleep(5);\n", rule: 'no-restricted-imports' },
];

for (const planted of PLANTED) {
  void test(`lint reports a planted wall-clock wait: ${planted.name}`, async () => {
    assert.deepEqual(await rulesFor('testing/planted_sleep.test.ts', planted.code), [planted.rule]);
  });
}

void test('the rule covers test helpers and tests in src/, and leaves the runtime of shardstore check alone', async () => {
  const sleep = PLANTED[0]?.code ?? '';
  assert.deepEqual(await rulesFor('testing/planted_helper.ts', sleep), ['no-restricted-syntax']);
  assert.deepEqual(await rulesFor('src/base/planted_sleep.test.ts', sleep), ['no-restricted-syntax']);
  assert.deepEqual(await rulesFor('testing/check/planted_budget.ts', sleep), []);
});

void test('a hang bound, a virtual clock and setImmediate are allowed', async () => {
  const code = [
    "import { withinHangBound } from './hang_bound.js';",
    "import { VirtualClock } from './virtual_clock.js';",
    'export async function allowed(work: Promise<number>): Promise<number> {',
    '  const clock = new VirtualClock();',
    '  const slept = clock.sleep(1000);',
    '  clock.advance(1000);',
    '  await slept;',
    '  await new Promise<void>((resolve) => setImmediate(resolve));',
    "  return withinHangBound(work, 10_000, () => 'the work');",
    '}',
    '',
  ].join('\n');
  assert.deepEqual(await rulesFor('testing/planted_allowed.test.ts', code), []);
});
