// Hang bounds: the one place a test may arm a wall-clock timer.
//
// Tests never wait on real time (docs/TESTING.md, "No wall-clock waits"):
// they wait for an event (a latch, a log line, a settled promise) or drive a
// virtual clock (testing/virtual_clock.ts). A bound is not a wait: the test
// goes on the moment `work` settles; the timer only turns a hang (a
// deadlock, a child that never prints its startup line) into a failure that
// says what was awaited, instead of a run stuck until the suite's timeout.
// The lint rule that bans setTimeout/setInterval in tests exempts this file
// alone (eslint.config.js).

/** What `withinHangBound` throws when `work` did not settle within its bound. */
export class HangBoundError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not settle within ${ms} ms (hang bound)`);
    this.name = 'HangBoundError';
  }
}

/**
 * `work`'s outcome, or a HangBoundError if it has not settled after `ms`
 * milliseconds of wall time. `what` is called only on timeout, so it can
 * describe the state then (a child's stderr so far).
 */
export async function withinHangBound<T>(work: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangBoundError(what(), ms)), ms);
  });
  try {
    return await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}
