// Scheduling policies of the deterministic simulation, and the short token
// that names a schedule: `random:seed=42` or `pct:d=3:k=200:seed=42`. The
// token fixes every choice the scheduler makes, so it replays a run.
//
// PCT: S. Burckhardt, P. Kothari, M. Musuvathi, S. Nagarakatte, "A
// randomized scheduler with probabilistic guarantees of finding bugs",
// ASPLOS 2010. For n tasks, k steps and a bug of depth d, one run finds
// the bug with probability at least 1 / (n * k^(d-1)).
//
// Strategy:
// - The scheduler asks a policy to pick one of the candidate entities
//   (parked tasks, queued IO completions, due timers), named by ids that
//   only grow; it tells the policy when an entity appears (`admit`) and
//   when it is gone (`retire`).
// - random: a uniform pick among the candidates.
// - pct: every entity gets a random place in a priority order when it
//   appears (the paper's random initial priorities; entities created
//   later, such as IOs, are inserted at a uniformly random place, as
//   Coyote and Shuttle do for new tasks). d-1 change points are drawn
//   uniformly in [1, k]. The highest-priority candidate runs. At the i-th
//   step that is a change point, the candidate that would run is demoted
//   below every undemoted entity first (the paper lowers the running
//   thread's priority to i < d; like Coyote we demote the one about to
//   run, so demoting a one-shot IO completion still delays it).
// - Only real choices (two or more candidates) count as steps and draw
//   random numbers, as in Coyote and Shuttle: forced moves do not use up
//   change points.
//
// Invariants:
// 1. A policy's picks depend only on its spec, its Rng and the sequence
//    of calls made to it: same token, same calls -> same picks.
// 2. A demoted entity stays below every undemoted one; demoted entities
//    keep the order of their demotion (latest lowest).
// 3. formatSchedule(parseSchedule(t)) === t for every valid token.
import { assert } from '../../src/base/index.js';
import type { Rng } from '../rng.js';

export type ScheduleSpec =
  | { readonly policy: 'random'; readonly seed: number }
  | { readonly policy: 'pct'; readonly seed: number; readonly depth: number; readonly steps: number };

export interface SchedulePolicy {
  /** A new entity, before it is first a candidate. */
  admit(id: number): void;
  /** An entity that will never be a candidate again. */
  retire(id: number): void;
  /** The index in `candidates` (ids, ascending, non-empty) of the one to run. */
  choose(candidates: readonly number[]): number;
}

export function formatSchedule(spec: ScheduleSpec): string {
  checkSpec(spec);
  return spec.policy === 'random' ? `random:seed=${spec.seed}` : `pct:d=${spec.depth}:k=${spec.steps}:seed=${spec.seed}`;
}

export function parseSchedule(token: string): ScheduleSpec {
  const random = /^random:seed=(\d+)$/.exec(token.trim());
  if (random !== null) return checkSpec({ policy: 'random', seed: Number(random[1]) });
  const pct = /^pct:d=(\d+):k=(\d+):seed=(\d+)$/.exec(token.trim());
  if (pct !== null) return checkSpec({ policy: 'pct', depth: Number(pct[1]), steps: Number(pct[2]), seed: Number(pct[3]) });
  throw new RangeError(`not a schedule token: ${JSON.stringify(token)} (expected random:seed=N or pct:d=D:k=K:seed=N)`);
}

function checkSpec(spec: ScheduleSpec): ScheduleSpec {
  if (!(Number.isSafeInteger(spec.seed) && spec.seed >= 0)) throw new RangeError(`schedule seed must be an integer >= 0: ${spec.seed}`);
  if (spec.policy === 'pct') {
    if (!(Number.isSafeInteger(spec.depth) && spec.depth >= 1)) throw new RangeError(`pct depth must be an integer >= 1: ${spec.depth}`);
    if (!(Number.isSafeInteger(spec.steps) && spec.steps >= 1)) throw new RangeError(`pct steps must be an integer >= 1: ${spec.steps}`);
  }
  return spec;
}

export function makePolicy(spec: ScheduleSpec, rng: Rng): SchedulePolicy {
  return spec.policy === 'random' ? new RandomPolicy(rng) : new PctPolicy(rng, spec.depth, spec.steps);
}

class RandomPolicy implements SchedulePolicy {
  constructor(private readonly rng: Rng) {}

  admit(): void {}

  retire(): void {}

  choose(candidates: readonly number[]): number {
    assert(candidates.length > 0, 'choose from no candidates');
    return candidates.length === 1 ? 0 : this.rng.int(0, candidates.length - 1);
  }
}

class PctPolicy implements SchedulePolicy {
  /** Undemoted entities, highest priority first. */
  private readonly ranked: number[] = [];
  /** Demoted entities, below all of `ranked`, highest first. */
  private readonly demoted: number[] = [];
  private readonly changePoints = new Set<number>();
  private step = 0;

  constructor(
    private readonly rng: Rng,
    depth: number,
    steps: number,
  ) {
    for (let i = 0; i < depth - 1; i++) this.changePoints.add(rng.int(1, steps));
  }

  admit(id: number): void {
    this.ranked.splice(this.rng.int(0, this.ranked.length), 0, id);
  }

  retire(id: number): void {
    remove(this.ranked, id);
    remove(this.demoted, id);
  }

  choose(candidates: readonly number[]): number {
    assert(candidates.length > 0, 'choose from no candidates');
    if (candidates.length === 1) return 0;
    this.step++;
    const enabled = new Set(candidates);
    if (this.changePoints.has(this.step)) {
      const top = this.highest(enabled);
      remove(this.ranked, top);
      remove(this.demoted, top);
      this.demoted.push(top);
    }
    const index = candidates.indexOf(this.highest(enabled));
    assert(index >= 0, 'pct: chosen entity is not a candidate');
    return index;
  }

  private highest(enabled: ReadonlySet<number>): number {
    for (const id of this.ranked) if (enabled.has(id)) return id;
    for (const id of this.demoted) if (enabled.has(id)) return id;
    throw new RangeError(`pct: no candidate was admitted: ${[...enabled].join(', ')}`);
  }
}

function remove(list: number[], id: number): void {
  const i = list.indexOf(id);
  if (i >= 0) list.splice(i, 1);
}
