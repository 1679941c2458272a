// Reads in flight, so reclamation can wait for every read that might still
// hold a locator into an extent before resetting it. A read registers when
// it resolves its locators and ends when its body is consumed or closed.
//
// Invariant: drained() resolves only after every read that had begun when
// it was called has ended.
export class ReadTracker {
  private nextId = 0;
  private readonly active = new Map<number, Array<() => void>>();

  /** Register a read; call the returned function exactly once when it ends. */
  begin(): () => void {
    const id = this.nextId++;
    this.active.set(id, []);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const waiters = this.active.get(id) ?? [];
      this.active.delete(id);
      for (const w of waiters) w();
    };
  }

  get inFlight(): number {
    return this.active.size;
  }

  /** Resolves when every read registered before this call has ended. */
  async drained(): Promise<void> {
    const waits = [...this.active.values()].map((waiters) => new Promise<void>((resolve) => waiters.push(resolve)));
    await Promise.all(waits);
  }
}
