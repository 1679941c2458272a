// Progress of the simulated world, for the hang detector of `shardstore
// check` (testing/check/hang_watch.ts). Every simulated IO issued or
// completed (sim_disk.ts) and every decision of the deterministic scheduler
// (concurrency/scheduler.ts) ticks the counter; a seed whose counter stands
// still while nothing outside could wake it (no timer, no real IO) is hung.
//
// Activities name what is under way (a sequence, one of its steps), so that
// a hang says what was pending rather than only that something was.
//
// Module state on purpose: one simulated world runs at a time per thread
// (a check worker runs one seed at a time; a test file runs its tests in
// order), and the detector must see ticks from code that does not know it.

let ticks = 0;
let nextActivity = 0;
/** Labels, or functions that make one: a hang report is rare, and a label made per step cost ~1% of a check. */
const activities = new Map<number, string | (() => string)>();

/** The simulated world moved (an IO issued or completed, a scheduler decision). */
export function tick(): void {
  ticks++;
}

export function progressTicks(): number {
  return ticks;
}

/**
 * Something is under way until the returned function is called. A function
 * label is called only if the activity is reported; it must describe values
 * that do not change while the activity runs.
 */
export function beginActivity(label: string | (() => string)): () => void {
  const id = nextActivity++;
  activities.set(id, label);
  return () => void activities.delete(id);
}

/** A mark: pendingActivities(mark) leaves out what began before it (e.g. a hung seed run earlier in this thread). */
export function activityMark(): number {
  return nextActivity;
}

/** What is under way, oldest first; with `since`, only what began at or after that mark. */
export function pendingActivities(since = 0): string[] {
  return [...activities].filter(([id]) => id >= since).map(([, label]) => (typeof label === 'string' ? label : label()));
}

/** One line naming an operation for a hang report: buffers by size, at most 160 characters. */
export function describeOp(op: unknown): string {
  const text = JSON.stringify(op, (_k, v: unknown) => (isBufferJson(v) ? `<${v.data.length}B>` : v)) ?? String(op);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: unknown[] } {
  return typeof v === 'object' && v !== null && 'type' in v && v.type === 'Buffer' && 'data' in v && Array.isArray(v.data);
}
