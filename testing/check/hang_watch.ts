// The per-seed hang detector of `shardstore check` (issue 13: "a hang
// blocks a short run"). A seed is hung when the simulated world stands
// still for good: its progress counter (testing/progress.ts: simulated IO,
// scheduler decisions) does not move while nothing that could wake it is
// left (no timer, no real IO handle beyond those there before the seed
// started). Then no amount of waiting helps, and the seed fails at once
// with a `hang` finding naming what was under way, instead of holding its
// worker until the seed timeout.
//
// Strategy: a setImmediate loop runs beside the seed. A turn of it happens
// only once the microtask queue is empty, so a seed that computes (however
// long) is never taken for idle; a turn with no tick and no new handle is
// an idle turn. After IDLE_TURNS consecutive idle turns spanning at least
// IDLE_MS, the seed is hung. The seeds of the concurrency suites run under
// the SimScheduler, whose own setImmediate turns each end in a decision (a
// tick), so they never look idle; their deadlocks are told by the scheduler
// itself ("deadlock ... wait(s) with no runnable task, IO or timer") and
// classified as hangs too (failure_kind.ts). A livelock (the world ticks
// forever) is not idle: the scheduler's step limit and the seed timeout,
// below the run's budget, catch it.
//
// Invariant: the watch never fires while a tick happened in its last
// IDLE_TURNS turns, or while a resource that was not there when the seed
// started (a timer, a socket, a file request) is alive.
import { activityMark, pendingActivities, progressTicks } from '../progress.js';

export const IDLE_TURNS = 64;
export const IDLE_MS = 250;

export interface HangWatch {
  /** Resolves with a `hang: ...` message when the world is hung; never rejects. */
  readonly hung: Promise<string>;
  stop(): void;
}

/** Kinds of live resources, counted by kind; setImmediate's own are left out (the watch is one). */
function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (kind !== 'Immediate') counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function withinBaseline(baseline: ReadonlyMap<string, number>): boolean {
  for (const [kind, n] of resourceCounts()) if (n > (baseline.get(kind) ?? 0)) return false;
  return true;
}

/** Watch the simulated world from now on; `what` names the seed in the message. */
export function watchForHang(what: string, options: { idleTurns?: number; idleMs?: number } = {}): HangWatch {
  const idleTurns = options.idleTurns ?? IDLE_TURNS;
  const idleMs = options.idleMs ?? IDLE_MS;
  const baseline = resourceCounts();
  const mark = activityMark();
  let stopped = false;
  let lastTicks = progressTicks();
  let idleSince: number | undefined;
  let turns = 0;
  const hung = new Promise<string>((resolve) => {
    const turn = (): void => {
      if (stopped) return;
      const now = performance.now();
      const ticks = progressTicks();
      if (ticks !== lastTicks || !withinBaseline(baseline)) {
        lastTicks = ticks;
        idleSince = undefined;
        turns = 0;
      } else {
        idleSince ??= now;
        turns++;
        if (turns >= idleTurns && now - idleSince >= idleMs) {
          resolve(hangMessage(what, now - idleSince, ticks, pendingActivities(mark)));
          return;
        }
      }
      setImmediate(turn);
    };
    setImmediate(turn);
  });
  return {
    hung,
    stop: () => {
      stopped = true;
    },
  };
}

function hangMessage(what: string, idleMs: number, ticks: number, pending: readonly string[]): string {
  return (
    `hang: ${what}: no progress in the simulated world for ${Math.round(idleMs)} ms (${ticks} IO and scheduling events before), ` +
    `and nothing left that could wake it (no IO, no timer); pending: ${pending.length === 0 ? 'nothing named' : pending.join('; ')}`
  );
}

/** Run `body` with a hang watch; resolves with its value, or with `onHang(message)` when it hangs. */
export async function raceHang<T>(what: string, body: () => Promise<T>, onHang: (message: string) => T, options: { idleTurns?: number; idleMs?: number } = {}): Promise<T> {
  const watch = watchForHang(what, options);
  try {
    return await Promise.race([body(), watch.hung.then(onHang)]);
  } finally {
    watch.stop();
  }
}
