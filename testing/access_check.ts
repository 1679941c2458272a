// Exclusive access and read-only tools, checked on a simulated node
// (SYSTEM.md section 4: "One process owns a store: a second server or a
// tool on a live store is refused. Tools that check never write.").
//
// Strategy:
// - A second opener: another process of the simulated host (sim_host.ts)
//   opens one disk of the running node, as a second server (read-write)
//   or a tool (read-only), through the production lock (DiskLock). If the
//   node holds the disk it must be refused with LockedError naming the
//   node's pid; if the disk is out of service (the node holds nothing), a
//   tool opens it and checks it with fsck.
// - Offline tools: with the node stopped (cleanly, or dirty: its process
//   died with every write kept, or after a crash), a tool process runs
//   fsck, inspect, scrub and export on every disk through their read-only
//   paths (fsckOpenDisk, inspectDisk, read-only stores in a ShardNode),
//   each on fresh handles of the media.
//
// Invariants:
// 1. While the node holds a disk, a second opener is refused (LockedError,
//    naming the holder), and the disk's image is unchanged.
// 2. Every offline tool leaves every image byte-identical (and issues no
//    write at all); fsck and scrub find nothing wrong with an image the
//    node left, and no tool leaves a lock record behind.
import { LockedError } from '../src/base/index.js';
import type { LockHolder } from '../src/disk/index.js';
import { ShardNode } from '../src/node/index.js';
import type { DiskStore } from '../src/store/index.js';
import { fsckClean, fsckOpenDisk } from '../src/tools/fsck.js';
import { inspectDisk } from '../src/tools/inspect.js';
import { collect } from './migration_streams.js';
import type { ImageMark, SimDisk } from './sim_disk.js';
import type { SimNode } from './sim_node.js';

/** A broken promise of exclusive access or of a read-only tool (the message names which). */
export class AccessViolation extends Error {
  override readonly name = 'AccessViolation';
}

export const OFFLINE_TOOLS = ['fsck', 'inspect', 'scrub', 'export'] as const;
export type OfflineTool = (typeof OFFLINE_TOOLS)[number];

/**
 * Disk `i` opened by another process of the host while the node runs.
 * Returns the outcome text the model predicts: 'refused' while the node
 * holds the disk, 'checked' (a tool's fsck) while it is out of service.
 */
export async function secondOpener(sim: SimNode, i: number, readOnly: boolean): Promise<string> {
  const inService = sim.node.store(i) !== undefined;
  // The node at rest: its own commits must not pass for the opener's writes.
  await sim.drain();
  const before = sim.disks[i]?.imageMark();
  const other = sim.host.spawn(readOnly ? 'shardstore fsck' : 'shardstore serve');
  try {
    if (!inService) return await fsckAs(sim, i, other);
    let opened: { disk: SimDisk; store: DiskStore };
    try {
      opened = await sim.openAs(i, other, { readOnly });
    } catch (err: unknown) {
      if (!(err instanceof LockedError)) throw err;
      if (!err.message.includes(`pid ${sim.process.pid} `)) throw new AccessViolation(`second opener of disk ${i} refused without naming the node's pid ${sim.process.pid}: ${err.message}`);
      if (!sameImage(sim.disks[i], before)) throw new AccessViolation(`a refused second opener changed disk ${i}'s image`);
      return 'refused';
    }
    opened.store.abandon();
    throw new AccessViolation(`second opener (pid ${other.pid}, ${readOnly ? 'read-only tool' : 'server'}) of disk ${i} was not refused while the node (pid ${sim.process.pid}) holds it`);
  } finally {
    sim.host.kill(other);
  }
}

/** The disk holds the bytes of the mark (both absent counts as the same). */
function sameImage(disk: SimDisk | undefined, mark: ImageMark | undefined): boolean {
  return disk === undefined || mark === undefined ? disk === mark : disk.sameImage(mark);
}

async function fsckAs(sim: SimNode, i: number, tool: LockHolder): Promise<string> {
  await onImages(sim, [i], 'fsck', async () => {
    const handle = await sim.handleAs(i, tool);
    const report = await fsckOpenDisk(handle, i, `sim disk ${i}`);
    if (!fsckClean(report)) throw new AccessViolation(`fsck of out-of-service disk ${i} found problems: ${JSON.stringify(report.problems)}`);
    return [handle];
  });
  return 'checked';
}

/**
 * Run every offline tool on the stopped node's disks (REQUIRES: the node's
 * process holds no disk: stopped or crashed). Returns a summary.
 */
export async function offlineToolsLeaveImages(sim: SimNode): Promise<string> {
  const tool = sim.host.spawn('shardstore offline tools');
  const disks = sim.disks.map((_, i) => i);
  let exported = 0;
  try {
    for (const name of OFFLINE_TOOLS) {
      await onImages(sim, disks, name, async () => {
        const { handles, records } = await runTool(sim, name, tool, disks);
        exported += records;
        return handles;
      });
    }
  } finally {
    sim.host.kill(tool);
  }
  for (const [i, records] of sim.host.locks.entries()) {
    if (records.names().length > 0) throw new AccessViolation(`disk ${i}: the tools left lock records behind: ${records.names().join(', ')}`);
  }
  return `${OFFLINE_TOOLS.join(', ')}: images unchanged, ${exported} bytes exported`;
}

/** Run `fn` (which returns the handles it used, closed) and check each handle's image against the media's before it. */
async function onImages(sim: SimNode, disks: readonly number[], tool: string, fn: () => Promise<SimDisk[]>): Promise<void> {
  const before = disks.map((i) => sim.disks[i]?.imageMark());
  const handles = await fn();
  handles.forEach((h, n) => {
    const i = disks[n] ?? -1;
    if (h.stats.writes > 0 || !sameImage(h, before[n])) {
      throw new AccessViolation(`offline tool ${tool} changed disk ${i}'s image (${h.stats.writes} write(s), ${h.stats.bytesWritten} bytes): tools must leave it byte-identical`);
    }
  });
}

async function runTool(sim: SimNode, name: OfflineTool, tool: LockHolder, disks: readonly number[]): Promise<{ handles: SimDisk[]; records: number }> {
  if (name === 'fsck' || name === 'inspect') {
    const handles: SimDisk[] = [];
    for (const i of disks) {
      const handle = await sim.handleAs(i, tool);
      handles.push(handle);
      if (name === 'inspect') await inspectDisk(handle, i, `sim disk ${i}`);
      else {
        const report = await fsckOpenDisk(handle, i, `sim disk ${i}`);
        if (!fsckClean(report)) throw new AccessViolation(`fsck of stopped disk ${i} found problems: ${JSON.stringify(report.problems)}`);
      }
    }
    return { handles, records: 0 };
  }
  const opened: Array<{ disk: SimDisk; store: DiskStore }> = [];
  for (const i of disks) opened.push(await sim.openAs(i, tool, { readOnly: true }));
  const node = new ShardNode(opened.map((o) => o.store));
  let bytes = 0;
  try {
    if (name === 'scrub') {
      const r = await node.scrub();
      if (r.counters.damagedShards + r.counters.damagedIndexChunks > 0 || r.errors.length > 0) throw new AccessViolation(`read-only scrub of the stopped node found damage: ${JSON.stringify({ counters: r.counters, errors: r.errors })}`);
    } else {
      bytes = (await collect(node.exportRange({}))).length;
    }
  } finally {
    await node.close();
  }
  return { handles: opened.map((o) => o.disk), records: bytes };
}
