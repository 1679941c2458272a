// A deliberately broken variant of the engine: installing it patches one
// method of a production class (through its prototype, so src/ carries no
// test hooks); the returned function restores the original. Each mutant
// stands for one bug class the checks must catch (SYSTEM.md section 2).
//
// A variant must fail for the right reason (issue 13): each names the
// failure it must cause (`expect`, matched against the failure's message),
// and testing/mutants.test.ts fails it when it is "caught" by anything else,
// and always when the failure is a harness error (testing/check/
// failure_kind.ts: a TypeError, "is not a function" after a rename). The
// patch itself checks that what it replaces exists, is a function, and
// takes the arguments the variant was written for, so a rename or a new
// parameter breaks the variant at install, loudly.
import { classifyFailure } from '../check/failure_kind.js';

export interface Mutant {
  readonly name: string;
  /** The bug class, in the words of the paper's table where one fits. */
  readonly bugClass: string;
  /** Which suite is expected to catch it. */
  readonly caughtBy: 'conformance' | 'crash' | 'faults' | 'concurrency' | 'node' | 'node-crash' | 'mirror' | 'metadata-faults' | 'auth' | 'http' | 'control-race' | 's3-crash' | 'lifecycle' | 'space';
  /** The failure it must cause (matched against the failure's message): caught by any other failure is not caught. */
  readonly expect: RegExp;
  install(): () => void;
}

/** Thrown at install when the patched member is missing or changed shape: the variant must be updated, not silently pass. */
export class MutantTargetError extends Error {
  override readonly name = 'MutantTargetError';
}

/**
 * Replace `proto[name]` with `make(original)`; returns the restore function.
 * Throws MutantTargetError unless `proto[name]` is a function, and, with
 * `arity`, one declaring that many parameters (Function.length: those
 * before the first with a default). Give `arity` wherever the target is
 * reached through a cast (a private method), where the compiler cannot.
 */
export function patch<T extends object, K extends keyof T>(proto: T, name: K, make: (original: T[K]) => T[K], arity?: number): () => void {
  const original = proto[name];
  const owner: unknown = (proto as { constructor?: { name?: unknown } }).constructor?.name;
  const where = `${typeof owner === 'string' ? owner : '?'}.${String(name)}`;
  if (typeof original !== 'function') throw new MutantTargetError(`mutant target ${where} is ${typeof original}, not a function: renamed or removed?`);
  if (arity !== undefined && original.length !== arity) {
    throw new MutantTargetError(`mutant target ${where} takes ${original.length} parameter(s), the variant was written for ${arity}: update the variant`);
  }
  proto[name] = make(original);
  return () => {
    proto[name] = original;
  };
}

/**
 * Whether a check's failure shows the variant caught: undefined if so, else
 * why not (a harness error, or a failure other than the one it must cause).
 */
export function notCaughtBecause(mutant: Mutant, message: string, error?: unknown): string | undefined {
  const kind = classifyFailure(message, error);
  if (kind === 'harness-error') return `${mutant.name} "caught" by a harness error, which never counts: ${message.split('\n')[0] ?? ''}`;
  if (!mutant.expect.test(message)) return `${mutant.name} was caught, but not by the failure it must cause (${String(mutant.expect)}): ${message.split('\n')[0] ?? ''}`;
  return undefined;
}
