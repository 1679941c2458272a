// The deliberately broken variants `shardstore check --mutant NAME` can
// install (testing/mutants/). To register more, spread their list here.
import { CONCURRENCY_MUTANTS } from '../mutants/concurrency_mutants.js';
import { CONTROL_MUTANTS } from '../mutants/control_mutants.js';
import { CRASH_MUTANTS } from '../mutants/crash_mutants.js';
import { ENGINE_MUTANTS } from '../mutants/engine_mutants.js';
import { FAULT_MUTANTS } from '../mutants/fault_mutants.js';
import { HTTP_MUTANTS } from '../mutants/http_mutants.js';
import type { Mutant } from '../mutants/mutant.js';

export const MUTANTS: readonly Mutant[] = [...ENGINE_MUTANTS, ...CRASH_MUTANTS, ...FAULT_MUTANTS, ...CONCURRENCY_MUTANTS, ...CONTROL_MUTANTS, ...HTTP_MUTANTS];

export function mutantNamed(name: string): Mutant | undefined {
  return MUTANTS.find((m) => m.name === name);
}

export function mutantNames(): string[] {
  return MUTANTS.map((m) => m.name);
}
