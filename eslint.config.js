// Type-aware lint: the rules that matter for async storage code (STYLE.md).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', '.before-dist/**', '.before-root/**', 'node_modules/**', 'data/**', 'reports/**', '.stryker-tmp/**', 'eslint.config.js', '.dependency-cruiser.cjs', 'native/*/index.cjs', 'native/*/build/**', '.check/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' },
  },
  // No wall-clock waits in tests and their helpers (docs/TESTING.md, "No
  // wall-clock waits"): a test waits for an event (a latch, a log line, a
  // settled promise) or drives a virtual clock (testing/virtual_clock.ts).
  // A bound against a hang is armed through testing/hang_bound.ts, the one
  // file exempt. testing/check/ is exempt as the runtime of `shardstore
  // check`, whose time budgets, worker timeouts and progress ticks are real
  // time by design. A test whose subject is real time (a server's own
  // timeout) disables the rule on its line with the reason.
  {
    files: ['**/*.test.ts', 'testing/**/*.ts'],
    ignores: ['testing/check/**', 'testing/hang_bound.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Identifier[name=/^(setTimeout|setInterval)$/]:not(MethodDefinition > Identifier.key, TSMethodSignature > Identifier.key, ImportSpecifier > Identifier)',
          message: 'No wall-clock waits in tests: wait for an event (latch) or use testing/virtual_clock.ts; bound a hang with withinHangBound (testing/hang_bound.ts).',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:timers/promises', 'timers/promises', 'node:timers', 'timers'].map((name) => ({
            name,
            importNames: ['setTimeout', 'setInterval', 'scheduler'],
            message: 'No wall-clock waits in tests: wait for an event (latch) or use testing/virtual_clock.ts; bound a hang with withinHangBound (testing/hang_bound.ts).',
          })),
        },
      ],
    },
  },
);
