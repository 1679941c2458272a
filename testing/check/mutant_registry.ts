// The deliberately broken variants `shardstore check --mutant NAME` can
// install (testing/mutants/). To register more, spread their list here.
import { ACCESS_MUTANTS } from '../mutants/access_mutants.js';
import { CONCURRENCY_MUTANTS } from '../mutants/concurrency_mutants.js';
import { CONTROL_MUTANTS } from '../mutants/control_mutants.js';
import { COLLECTOR_MUTANTS } from '../mutants/collector_mutants.js';
import { CONTROL_RACE_MUTANTS } from '../mutants/control_race_mutants.js';
import { CRASH_MUTANTS } from '../mutants/crash_mutants.js';
import { ENGINE_MUTANTS } from '../mutants/engine_mutants.js';
import { FAULT_MUTANTS } from '../mutants/fault_mutants.js';
import { HOST_SPACE_MUTANTS } from '../mutants/host_space_mutants.js';
import { HTTP_CHECK_MUTANTS } from '../mutants/http_check_mutants.js';
import { LIFECYCLE_MUTANTS } from '../mutants/lifecycle_mutants.js';
import { METADATA_MUTANTS } from '../mutants/metadata_mutants.js';
import { MIRROR_MUTANTS } from '../mutants/mirror_mutants.js';
import { ONE_SYNC_MUTANTS } from '../mutants/one_sync_mutants.js';
import { SPACE_MUTANTS } from '../mutants/space_mutants.js';
import { TOGETHER_MUTANTS } from '../mutants/together_mutants.js';
import type { Mutant } from '../mutants/mutant.js';
import { RACE_MUTANTS } from '../mutants/race_mutants.js';

export const MUTANTS: readonly Mutant[] = [...ENGINE_MUTANTS, ...CRASH_MUTANTS, ...FAULT_MUTANTS, ...HOST_SPACE_MUTANTS, ...CONCURRENCY_MUTANTS, ...CONTROL_MUTANTS, ...ACCESS_MUTANTS, ...MIRROR_MUTANTS, ...METADATA_MUTANTS, ...RACE_MUTANTS, ...HTTP_CHECK_MUTANTS, ...CONTROL_RACE_MUTANTS, ...ONE_SYNC_MUTANTS, ...TOGETHER_MUTANTS, ...COLLECTOR_MUTANTS, ...LIFECYCLE_MUTANTS, ...SPACE_MUTANTS];

export function mutantNamed(name: string): Mutant | undefined {
  return MUTANTS.find((m) => m.name === name);
}

export function mutantNames(): string[] {
  return MUTANTS.map((m) => m.name);
}
