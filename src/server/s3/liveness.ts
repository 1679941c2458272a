// Which data shards must not be deleted right now, beyond what the records
// on disk say (docs/S3.md, "Garbage"):
//
// - in flight: a data shard being written (or written and not yet named by
//   a record): a concurrent collection must not take it for an orphan;
// - pinned: a data shard a GET is streaming: deleting it would cut the
//   response short, so its deletion waits until the last reader unpins it.
//
// Readers and the collector meet on `condemned`: the collector condemns a
// shard before deleting it, and a reader that pins a condemned shard backs
// off and re-reads the object record (which no longer names it). JS runs
// pin-and-check and condemn-and-check each without interleaving, so either
// the reader sees the condemnation or the collector sees the pin.

export class Liveness {
  private readonly inFlight = new Set<string>();
  private readonly pins = new Map<string, number>();
  private readonly condemned = new Map<string, (() => void) | undefined>();

  beginWrite(shardKey: Buffer): void {
    this.inFlight.add(shardKey.toString('latin1'));
  }

  /** The shard is named by a record now (or was given up). */
  endWrite(shardKey: Buffer): void {
    this.inFlight.delete(shardKey.toString('latin1'));
  }

  isInFlight(shardKey: Buffer): boolean {
    return this.inFlight.has(shardKey.toString('latin1'));
  }

  /** Pin every shard; false (and nothing pinned) if one is condemned: re-read the record. */
  pin(shardKeys: readonly Buffer[]): boolean {
    const names = shardKeys.map((k) => k.toString('latin1'));
    if (names.some((n) => this.condemned.has(n))) return false;
    for (const n of names) this.pins.set(n, (this.pins.get(n) ?? 0) + 1);
    return true;
  }

  unpin(shardKeys: readonly Buffer[]): void {
    for (const key of shardKeys) {
      const name = key.toString('latin1');
      const count = (this.pins.get(name) ?? 0) - 1;
      if (count > 0) {
        this.pins.set(name, count);
        continue;
      }
      this.pins.delete(name);
      const deferred = this.condemned.get(name);
      if (deferred !== undefined) {
        this.condemned.set(name, undefined);
        deferred();
      }
    }
  }

  /**
   * Condemn a shard and run `remove` once no reader has it pinned: now (the
   * returned promise settles when it has run) or when the last reader
   * unpins it (the promise settles at once). The shard stays condemned until
   * `remove` settles. A shard already condemned is left to the first removal.
   * REQUIRES: `remove` reports its own failures (it runs in the background;
   * the collector's next pass retries what it could not delete).
   */
  condemn(shardKey: Buffer, remove: () => Promise<void>): Promise<void> {
    const name = shardKey.toString('latin1');
    if (this.condemned.has(name)) return Promise.resolve();
    const settled = (): void => {
      this.condemned.delete(name);
    };
    const run = (): Promise<void> => remove().then(settled, settled);
    if ((this.pins.get(name) ?? 0) > 0) {
      this.condemned.set(name, () => void run());
      return Promise.resolve();
    }
    this.condemned.set(name, undefined);
    return run();
  }

  /** Shards pinned by readers now (tests, metrics). */
  get pinnedCount(): number {
    return this.pins.size;
  }
}
