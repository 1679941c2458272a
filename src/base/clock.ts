// Time, as the engine sees it. Production uses the system clock; the
// deterministic simulation (testing/concurrency) passes one whose sleeps
// end when its scheduler says, so timers replay exactly.

export interface Clock {
  nowMs(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
  /**
   * As sleep, but ends at once (false) when `signal` aborts, its timer
   * cleared: a wait that a close cuts short leaves no timer to keep the
   * process alive. Optional: `sleepOrAbort` below stands in for a clock
   * without it (a test's, whose sleeps hold no timer).
   */
  sleepOrAbort?(ms: number, signal: AbortSignal): Promise<boolean>;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  sleepOrAbort: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};

/** `clock`'s sleep of `ms`, true when it ran out, false when `signal` aborted it first (Clock.sleepOrAbort). */
export function sleepOrAbort(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (clock.sleepOrAbort !== undefined) return clock.sleepOrAbort(ms, signal);
  return Promise.race([clock.sleep(ms).then(() => true), new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(false), { once: true }))]);
}

/**
 * `format` by whole seconds, the text of the last second formatted kept:
 * formatting a Date costs more than the rest of a log line or of an
 * answer's headers, and the requests of one second share the text.
 * `format` is given the second's first millisecond.
 */
export function lastSecondText(format: (secondMs: number) => string): (ms: number) => string {
  let second = NaN;
  let text = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      text = format(s * 1000);
    }
    return text;
  };
}
