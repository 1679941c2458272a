// What a failure of a check is: a finding (a property of the system broke),
// a hang (the seed stopped making progress: hang_watch.ts, a scheduler
// deadlock, a seed timeout), or a harness error (the check itself crashed:
// a TypeError, "is not a function" after a rename, a missing module). Only
// findings and hangs are evidence about the system under test; a broken
// variant "caught" by a harness error is not caught (testing/mutants.test.ts).
//
// Classified by message, since failures cross thread boundaries as text:
// JavaScript's own errors for programming mistakes (TypeError,
// ReferenceError, SyntaxError) and their usual wording.

export type FailureKind = 'finding' | 'hang' | 'harness-error';

const HANG = /^hang: |\bdeadlock under \S+ after \d+ steps\b|\bseed timeout \(\d+ ms\) exceeded\b/;
const HARNESS = /\b(TypeError|ReferenceError|SyntaxError)\b|is not a function|is not a constructor|is not iterable|Cannot read propert(y|ies) of (undefined|null)|Cannot set propert(y|ies) of (undefined|null)|is not defined\b|Cannot find module|ERR_MODULE_NOT_FOUND/;

/** The kind of a failure from its message (and its error, when in hand). */
export function classifyFailure(message: string, error?: unknown): FailureKind {
  if (error instanceof TypeError || error instanceof ReferenceError || error instanceof SyntaxError) return 'harness-error';
  if (HANG.test(message)) return 'hang';
  if (HARNESS.test(message)) return 'harness-error';
  return 'finding';
}
