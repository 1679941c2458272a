// Time, as the engine sees it. Production uses the system clock; the
// deterministic simulation (testing/concurrency) passes one whose sleeps
// end when its scheduler says, so timers replay exactly.

export interface Clock {
  nowMs(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
