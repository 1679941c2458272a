// Progress of long commands on stderr: on a terminal one line redrawn in
// place ("[#######-------]  42%  1.1 GiB / 2.6 GiB  312 MB/s  ETA 5s"),
// otherwise a plain line every few seconds, so logs stay readable.

const BAR_WIDTH = 30;
const PLAIN_EVERY_MS = 2_000;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u] ?? ''}`;
}

/** Decimal megabytes a second, as disk benchmarks report them. */
export function formatRate(bytes: number, ms: number): string {
  return ms <= 0 ? '-' : `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
}

export function progressText(doneBytes: number, totalBytes: number, elapsedMs: number, extra = ''): string {
  const fraction = totalBytes > 0 ? Math.min(1, doneBytes / totalBytes) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const rate = elapsedMs > 0 ? doneBytes / (elapsedMs / 1000) : 0;
  const etaS = rate > 0 ? Math.max(0, (totalBytes - doneBytes) / rate) : undefined;
  return [
    `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`,
    `${String(Math.floor(fraction * 100)).padStart(3)}%`,
    `${formatBytes(doneBytes)} / ${formatBytes(totalBytes)}`,
    formatRate(doneBytes, elapsedMs),
    etaS === undefined ? '' : `ETA ${Math.ceil(etaS)}s`,
    extra,
  ]
    .filter((p) => p !== '')
    .join('  ');
}

export class ProgressLine {
  private lastPlainMs = -Infinity;
  private drawn = false;
  private lastPlain = '';

  constructor(
    private readonly err: (line: string) => void,
    private readonly tty: boolean = process.stderr.isTTY,
  ) {}

  update(text: string): void {
    if (this.tty) {
      process.stderr.write(`\r${text}\u001b[K`);
      this.drawn = true;
      return;
    }
    const now = performance.now();
    if (now - this.lastPlainMs < PLAIN_EVERY_MS) return;
    this.lastPlainMs = now;
    this.lastPlain = text;
    this.err(text);
  }

  /** Leave the last state on its own line. */
  finish(text: string): void {
    if (this.tty && this.drawn) process.stderr.write(`\r${text}\u001b[K\n`);
    else if (text !== this.lastPlain) this.err(text);
  }
}
