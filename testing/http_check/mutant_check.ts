// Evidence that the HTTP check catches its broken variants
// (testing/mutants/http_mutants.ts), each by the property it breaks: the
// same seed and case families run without and with the variant (every
// failure collected, the world set up afresh after each), and the variant
// must break its property at a case the unmodified server answers rightly.
//
// Until issue 12's parts A and B are merged the unmodified server already
// breaks some of these properties (unsigned headers are honoured, PUT
// ?versioning creates a bucket); where it breaks the variant's property at
// every case, the variant cannot be told apart and `provenAgainstBaseline`
// is false: the caller reports it instead of failing.
import type { Mutant } from '../mutants/mutant.js';
import { checkHttp } from './http_check.js';
import type { HttpFailure } from './http_check.js';

export interface MutantEvidence {
  readonly caught: boolean;
  readonly provenAgainstBaseline: boolean;
  /** The first failure of the variant's property with the variant installed. */
  readonly witness: HttpFailure | undefined;
  readonly baselineFailures: number;
}

export async function catchHttpMutant(mutant: Mutant, options: { seed: number; cases: number; families: readonly string[]; property: string }): Promise<MutantEvidence> {
  const run = { seed: options.seed, cases: options.cases, families: options.families, collectAll: true };
  const baseline = (await checkHttp(run)).failures.filter((f) => f.property === options.property);
  const restore = mutant.install();
  let mutated: HttpFailure[];
  try {
    mutated = (await checkHttp(run)).failures.filter((f) => f.property === options.property);
  } finally {
    restore();
  }
  const before = new Set(baseline.map((f) => f.caseIndex));
  const fresh = mutated.filter((f) => !before.has(f.caseIndex));
  const untouched = options.cases - before.size;
  return {
    caught: fresh.length > 0 || (untouched === 0 && mutated.length > 0),
    provenAgainstBaseline: fresh.length > 0,
    witness: fresh[0] ?? mutated[0],
    baselineFailures: baseline.length,
  };
}
