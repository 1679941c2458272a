// Prometheus metrics at GET /metrics (text exposition format 0.0.4).
//
// Per request, labelled by API (s3, native) and operation (the S3 operation
// name, or the native route): a count by status, a latency histogram, and
// bytes in and out. Per durability wait (the time between a change being
// staged and its Dependency becoming persistent): a histogram. The store's
// own numbers (extents by owner, commits, flushes, reclamation) are read
// from ShardApi.stats() at scrape time.
//
// Label sets are bounded: operations are a fixed list, statuses a few dozen.
import type { StoreStats } from '../store/index.js';

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const WAIT_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const at = this.bounds.findIndex((b) => value <= b);
    if (at >= 0) this.counts[at] = (this.counts[at] ?? 0) + 1;
  }

  lines(name: string, labels: string): string[] {
    const out: string[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i] ?? 0;
      out.push(`${name}_bucket{${join(labels, `le="${bound}"`)}} ${cumulative}`);
    });
    out.push(`${name}_bucket{${join(labels, 'le="+Inf"')}} ${this.count}`);
    out.push(`${name}_sum${labels === '' ? '' : `{${labels}}`} ${this.sum}`);
    out.push(`${name}_count${labels === '' ? '' : `{${labels}}`} ${this.count}`);
    return out;
  }
}

export interface RequestSample {
  readonly api: string;
  readonly op: string;
  readonly status: number;
  readonly seconds: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The answer was cut after its status line, with this error code (e.g. Corruption mid-body). */
  readonly abortedWith?: string;
}

/** One (api, op) pair's counters: found by two map lookups of the strings as given, no label text built per request. */
interface Series {
  readonly labels: string;
  readonly latency: Histogram;
  readonly byStatus: Map<number, number>;
  bytesIn: number;
  bytesOut: number;
}

export class Metrics {
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly aborted = new Map<string, number>();
  private readonly durableWait = new Histogram(WAIT_BUCKETS_S);
  inFlight = 0;

  observeRequest(s: RequestSample): void {
    let ops = this.series.get(s.api);
    if (ops === undefined) this.series.set(s.api, (ops = new Map<string, Series>()));
    let series = ops.get(s.op);
    if (series === undefined) {
      series = { labels: `api="${s.api}",op="${escape(s.op)}"`, latency: new Histogram(LATENCY_BUCKETS_S), byStatus: new Map(), bytesIn: 0, bytesOut: 0 };
      ops.set(s.op, series);
    }
    series.byStatus.set(s.status, (series.byStatus.get(s.status) ?? 0) + 1);
    series.latency.observe(s.seconds);
    series.bytesIn += s.bytesIn;
    series.bytesOut += s.bytesOut;
    if (s.abortedWith !== undefined) {
      const withCode = `${series.labels},code="${escape(s.abortedWith)}"`;
      this.aborted.set(withCode, (this.aborted.get(withCode) ?? 0) + 1);
    }
  }

  private *allSeries(): Iterable<Series> {
    for (const ops of this.series.values()) yield* ops.values();
  }

  observeDurableWait(ms: number): void {
    this.durableWait.observe(ms / 1000);
  }

  /** The exposition text, with the store's stats as of now. */
  render(stats: StoreStats | undefined): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family('shardstore_http_requests_total', 'counter', 'HTTP requests answered, by API, operation and status.');
    for (const { labels, byStatus } of this.allSeries()) for (const [status, n] of byStatus) out.push(`shardstore_http_requests_total{${labels},status="${status}"} ${n}`);
    family('shardstore_http_request_duration_seconds', 'histogram', 'Time from request to the end of the answer.');
    for (const { labels, latency } of this.allSeries()) out.push(...latency.lines('shardstore_http_request_duration_seconds', labels));
    family('shardstore_http_request_body_bytes_total', 'counter', 'Request body bytes received.');
    for (const { labels, bytesIn } of this.allSeries()) out.push(`shardstore_http_request_body_bytes_total{${labels}} ${bytesIn}`);
    family('shardstore_http_response_body_bytes_total', 'counter', 'Response body bytes sent.');
    for (const { labels, bytesOut } of this.allSeries()) out.push(`shardstore_http_response_body_bytes_total{${labels}} ${bytesOut}`);
    family('shardstore_http_responses_aborted_total', 'counter', 'Answers cut after their status line was sent (the client saw a short body), by API, operation and error code.');
    for (const [labels, n] of this.aborted) out.push(`shardstore_http_responses_aborted_total{${labels}} ${n}`);
    family('shardstore_http_requests_in_flight', 'gauge', 'Requests being handled.');
    out.push(`shardstore_http_requests_in_flight ${this.inFlight}`);
    family('shardstore_dependency_wait_seconds', 'histogram', 'Time a request waited for its changes to become durable.');
    out.push(...this.durableWait.lines('shardstore_dependency_wait_seconds', ''));
    if (stats !== undefined) out.push(...storeLines(stats));
    out.push(...processLines());
    return out.join('\n') + '\n';
  }
}

function storeLines(s: StoreStats): string[] {
  const gauge = (name: string, help: string, value: number): string[] => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`];
  const counter = (name: string, help: string, value: number): string[] => [`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`];
  return [
    ...gauge('shardstore_disks', 'Disks of the node.', s.disks),
    ...gauge('shardstore_capacity_bytes', 'Total size of the disks.', s.capacityBytes),
    ...gauge('shardstore_extent_size_bytes', 'Size of one extent.', s.extentSizeBytes),
    '# HELP shardstore_extents Extents by owner.',
    '# TYPE shardstore_extents gauge',
    `shardstore_extents{owner="free"} ${s.extentsFree}`,
    `shardstore_extents{owner="data"} ${s.extentsData}`,
    `shardstore_extents{owner="index"} ${s.extentsIndex}`,
    `shardstore_extents{owner="meta"} ${s.extentsMeta}`,
    ...counter('shardstore_commits_total', 'Group commits (metadata records) written.', s.commits),
    ...counter('shardstore_flushes_total', 'Index memtable flushes.', s.flushes),
    ...counter('shardstore_reclaimed_extents_total', 'Extents reset by reclamation.', s.reclaimedExtents),
    ...counter('shardstore_reclaimed_bytes_total', 'Bytes freed by reclamation.', s.reclaimedBytes),
    ...counter('shardstore_reclaim_moved_bytes_total', 'Live bytes copied by reclamation.', s.movedBytes),
    ...counter('shardstore_puts_waited_for_room_total', 'Puts that found no free extent and waited for reclamation to free one.', s.putsWaitedForRoom ?? 0),
    ...gauge('shardstore_degraded', 'One when the node is degraded (GET /healthz says why), else zero.', (s.degraded ?? []).length > 0 ? 1 : 0),
    ...gauge('shardstore_read_only_disks', 'Disks whose store turned read-only after a failed metadata write.', s.readOnlyDisks ?? 0),
    ...counter('shardstore_host_nospace_writes_total', 'Writes the host file system refused for lack of space (ENOSPC, EDQUOT).', s.hostNoSpaceWrites ?? 0),
    ...gauge('shardstore_prepared_extents', 'Free extents prepared on the host file system (zeros written and flushed): the reserve deletes and reclamation use, and those prepared ahead of puts (with --prepare-ahead all, every free extent once the preparation is over: compare shardstore_extents{owner="free"}).', s.preparedExtents ?? 0),
    ...(s.hostFreeBytes === undefined ? [] : gauge('shardstore_host_free_bytes', 'Free bytes of the fullest host file system under a data file.', s.hostFreeBytes)),
  ];
}

function processLines(): string[] {
  const memory = process.memoryUsage();
  return [
    '# HELP shardstore_process_resident_memory_bytes Resident set size.',
    '# TYPE shardstore_process_resident_memory_bytes gauge',
    `shardstore_process_resident_memory_bytes ${memory.rss}`,
    '# HELP shardstore_process_heap_used_bytes V8 heap in use.',
    '# TYPE shardstore_process_heap_used_bytes gauge',
    `shardstore_process_heap_used_bytes ${memory.heapUsed}`,
  ];
}

function join(a: string, b: string): string {
  return a === '' ? b : `${a},${b}`;
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
