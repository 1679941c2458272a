// Prometheus text of the control plane at GET /v1/admin/metrics: scrub
// counters (cumulative over passes), the last pass's damage, and per disk
// its service state, bytes, extents and shard count. (Request metrics and
// store totals are at /metrics.)
import type { AdminApi, DiskStats } from '../node/index.js';

type Line = readonly [labels: string, value: number];

function family(name: string, type: 'counter' | 'gauge', help: string, lines: readonly Line[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines.map(([labels, v]) => `${name}${labels === '' ? '' : `{${labels}}`} ${v}`)];
}

function perDisk(disks: readonly DiskStats[], f: (d: DiskStats) => number): Line[] {
  return disks.map((d) => [`disk="${d.disk}"`, f(d)] as const);
}

export function adminMetricsText(admin: AdminApi): string {
  const totals = admin.scrubTotals();
  const status = admin.scrubStatus();
  const disks = admin.nodeStats().disks;
  const owners = ['free', 'data', 'index', 'meta', 'superblock'] as const;
  const out = [
    ...family('shardstore_scrub_passes_total', 'counter', 'Scrub passes finished.', [['', status.passes]]),
    ...family('shardstore_scrub_running', 'gauge', '1 while a scrub pass runs.', [['', status.state === 'running' ? 1 : 0]]),
    ...family('shardstore_scrub_shards_verified_total', 'counter', 'Shards whose every chunk was read and verified.', [['', totals.shardsVerified]]),
    ...family('shardstore_scrub_chunks_verified_total', 'counter', 'Data chunks read and verified.', [['', totals.chunksVerified]]),
    ...family('shardstore_scrub_bytes_verified_total', 'counter', 'Data chunk bytes read and verified.', [['', totals.bytesVerified]]),
    ...family('shardstore_scrub_index_chunks_verified_total', 'counter', 'Index run chunks read and verified.', [['', totals.indexChunksVerified]]),
    ...family('shardstore_scrub_damaged_shards_total', 'counter', 'Damaged shards found (a shard counts once per pass).', [['', totals.damagedShards]]),
    ...family('shardstore_scrub_damaged_index_chunks_total', 'counter', 'Damaged index chunks found.', [['', totals.damagedIndexChunks]]),
    ...family('shardstore_scrub_last_damaged_shards', 'gauge', 'Damaged shards in the last finished pass.', [['', status.last?.counters.damagedShards ?? 0]]),
    ...family('shardstore_disk_in_service', 'gauge', '1 if the disk is in service.', perDisk(disks, (d) => (d.state === 'in-service' ? 1 : 0))),
    ...family('shardstore_disk_capacity_bytes', 'gauge', 'Size of the disk.', perDisk(disks, (d) => d.capacityBytes)),
    ...family('shardstore_disk_used_bytes', 'gauge', 'Bytes written in extents in use.', perDisk(disks, (d) => d.usedBytes)),
    ...family('shardstore_disk_free_bytes', 'gauge', 'Bytes of free extents.', perDisk(disks, (d) => d.freeBytes)),
    ...family('shardstore_disk_live_bytes', 'gauge', 'Bytes of chunks still referenced (data and index).', perDisk(disks, (d) => d.liveBytes)),
    ...family('shardstore_disk_reclaimable_bytes', 'gauge', 'Written data bytes no shard references.', perDisk(disks, (d) => d.reclaimableBytes)),
    ...family('shardstore_disk_shards', 'gauge', 'Shards on the disk.', perDisk(disks, (d) => d.shardCount)),
    ...family('shardstore_disk_extents', 'gauge', 'Extents by owner.', disks.flatMap((d) => owners.map((o) => [`disk="${d.disk}",owner="${o}"`, d.extents[o]] as const))),
  ];
  return out.join('\n') + '\n';
}
