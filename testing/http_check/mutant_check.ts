// Evidence that the HTTP check catches its broken variants
// (testing/mutants/http_check_mutants.ts), each by the property it breaks:
// the same seed and case families run without the variant (the control:
// no failure at all) and with it (every failure collected, the world set
// up afresh after each); the variant is caught when a failure's message, as
// the suite reports it (`<property>: <request> -> <answer>`), matches the
// variant's `expect`.
import type { Mutant } from '../mutants/mutant.js';
import { checkHttp } from './http_check.js';
import type { HttpFailure } from './http_check.js';

export interface MutantEvidence {
  /** Failures of the run without the variant (the control: none expected). */
  readonly controlFailures: readonly HttpFailure[];
  /** The first failure with the variant installed that matches its `expect`. */
  readonly witness: HttpFailure | undefined;
  /** Every failure with the variant installed. */
  readonly failures: readonly HttpFailure[];
}

/** The suite's one-line failure message (testing/check/http_suite.ts reports the same). */
export function failureMessage(f: HttpFailure): string {
  return `${f.property}: ${f.request} -> ${f.answer}`;
}

export async function catchHttpMutant(mutant: Mutant, options: { seed: number; cases: number; families: readonly string[] }): Promise<MutantEvidence> {
  if (mutant.expect === undefined) throw new TypeError(`${mutant.name} names no failure it must cause (expect)`);
  const expect = mutant.expect;
  const run = { seed: options.seed, cases: options.cases, families: options.families, collectAll: true };
  const control = await checkHttp(run);
  const restore = mutant.install();
  let failures: HttpFailure[];
  try {
    failures = (await checkHttp(run)).failures;
  } finally {
    restore();
  }
  return { controlFailures: control.failures, witness: failures.find((f) => expect.test(failureMessage(f))), failures };
}
