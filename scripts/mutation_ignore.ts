// The one class of mutants the mutation score leaves out (docs/TESTING.md,
// "Equivalent mutants left out"): every mutant inside the message argument
// of a call to `assert(condition, message)` of src/base/assert.ts.
//
// Why they are equivalent: the message is read only when the condition is
// false, and then it becomes the text of an AssertionError, the report of a
// bug in the engine itself, which no caller handles and no contract names
// (the errors callers handle are the typed ones of src/base/errors.ts, whose
// messages stay mutated and are tested). Mutating the text changes nothing
// that correct code can make observable; it is killed only by a test that
// breaks an invariant on purpose and reads the text.
//
// Used twice with the same rule: by scripts/mutation.ts, which lists the
// population and draws the sample without these mutants, and by Stryker
// itself (stryker.config.json `ignorers`), which then marks them Ignored,
// outside the score, when a drawn range holds one (an emptied block around
// an assert). Nothing else is left out here; compile-time constant asserts
// carry their own `// Stryker disable next-line` comments in src/.
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';
import type { Ignorer, NodePath } from '@stryker-mutator/api/ignore';

export const ASSERT_MESSAGE_IGNORER = 'assert-message';
export const ASSERT_MESSAGE_REASON = 'the message of an assert(): read only when an engine invariant breaks (docs/TESTING.md)';

/** The few fields of a Babel NodePath this rule reads (the API types NodePath as opaque). */
interface PathView {
  readonly node: unknown;
  readonly key: unknown;
  readonly listKey: unknown;
  readonly parentPath: { readonly node: unknown } | null;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function isPathView(path: NodePath): path is NodePath & PathView {
  return 'node' in path && 'key' in path && 'listKey' in path && 'parentPath' in path;
}

/** Whether `path` is the second argument of a call `assert(...)` (the callee named exactly `assert`). */
export function isAssertMessage(path: NodePath): boolean {
  if (!isPathView(path) || path.listKey !== 'arguments' || path.key !== 1) return false;
  const call = path.parentPath?.node;
  if (field(call, 'type') !== 'CallExpression') return false;
  const callee = field(call, 'callee');
  return field(callee, 'type') === 'Identifier' && field(callee, 'name') === 'assert';
}

export class AssertMessageIgnorer implements Ignorer {
  shouldIgnore(path: NodePath): string | undefined {
    return isAssertMessage(path) ? ASSERT_MESSAGE_REASON : undefined;
  }
}

export const strykerPlugins = [declareValuePlugin(PluginKind.Ignore, ASSERT_MESSAGE_IGNORER, new AssertMessageIgnorer())];
