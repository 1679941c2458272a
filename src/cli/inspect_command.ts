// `shardstore inspect`: a picture of each disk's extent map, offline. One
// cell per extent, colored by owner; the written part (write pointer /
// extent size) fills the cell from the bottom, and for data extents the
// live part of it (its live bytes) is drawn darker. SVG, or the same SVG in a
// self-contained HTML page with a table of per-disk totals.
import { writeFile } from 'node:fs/promises';
import type { DiskExtentMap, ExtentCell, OwnerName } from '../tools/index.js';
import { parseFlags, stringFlag, offlineTargetHelp, targetOf, OFFLINE_TARGET_OPTIONS } from './admin_target.js';
import type { AdminOptionSpec } from './admin_target.js';
import type { CliIo, Command } from './command.js';
import { formatBytes } from './progress.js';
import { EXIT_OK, UsageError } from './usage_error.js';

const OPTIONS: readonly AdminOptionSpec[] = [
  ...OFFLINE_TARGET_OPTIONS,
  { name: 'out', value: 'file', help: 'write the picture here: .svg or .html (default: extent-map.svg)' },
];

const CELL_PX = 18;
const GAP_PX = 2;
const COLUMNS = 32;
const MARGIN_PX = 16;
const LEGEND_PX = 50;
const DISK_HEADER_PX = 36;
const DISK_FOOTER_PX = 24;
/** Wide enough for the legend note and a totals line. */
const MIN_TEXT_WIDTH_PX = 860;

const COLORS: Readonly<Record<OwnerName, string>> = { free: '#d9d9d9', data: '#4a90e2', index: '#f5a623', meta: '#9b59b6', superblock: '#4d4d4d' };
const LIVE_COLOR = '#17407a';
const OWNERS: readonly OwnerName[] = ['free', 'data', 'index', 'meta', 'superblock'];

export function inspectHelp(): string {
  return [
    'Usage: shardstore inspect [--data-dir <dir> [--disks <n>] | --path <file>...] [--out <map.svg|map.html>]',
    '',
    'Draw the extent map of each disk offline (read-only; refused while a server runs): one cell per extent,',
    'colored by owner (free, data, index, meta, superblock); the written part of the extent',
    '(write pointer / extent size) fills the cell from the bottom, and for data extents the',
    'live bytes are drawn darker. Hover a cell for its numbers. Per-disk totals below each map.',
    '',
    'Options:',
    ...offlineTargetHelp(),
    `  ${'--out <file>'.padEnd(26)}${OPTIONS.find((o) => o.name === 'out')?.help ?? ''}`,
    `  ${'-h, --help'.padEnd(26)}show this help`,
    '',
    'Prints the path written. Exit status: 0 written, 1 failure, 2 usage error.',
  ].join('\n');
}

export const inspectCommand: Command = {
  summary: 'draw each disk\'s extent map (owner, fill, live ratio) as SVG or HTML',
  help: inspectHelp,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { flags } = parseFlags(argv, OPTIONS);
    if (flags['help'] === true) {
      io.out(inspectHelp());
      return EXIT_OK;
    }
    const out = stringFlag(flags, 'out') ?? 'extent-map.svg';
    const html = /\.html?$/i.test(out);
    if (!html && !/\.svg$/i.test(out)) throw new UsageError(`--out: expected a .svg or .html file, got ${JSON.stringify(out)}`);
    const target = targetOf(flags, io.env, OPTIONS);
    if (target.kind !== 'files') return EXIT_OK; // --url is not an option of inspect: parseFlags refused it
    const { inspectNode } = await import('../tools/index.js');
    const maps = await inspectNode(target.paths);
    await writeFile(out, html ? renderHtml(maps) : renderSvg(maps));
    io.out(out);
    return EXIT_OK;
  },
};

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

function diskHeightPx(m: DiskExtentMap): number {
  const rows = Math.ceil(m.cells.length / COLUMNS);
  return DISK_HEADER_PX + rows * (CELL_PX + GAP_PX) + DISK_FOOTER_PX;
}

/** The whole picture: legend, then each disk's grid with its totals. */
export function renderSvg(maps: readonly DiskExtentMap[]): string {
  const width = 2 * MARGIN_PX + Math.max(COLUMNS * (CELL_PX + GAP_PX), MIN_TEXT_WIDTH_PX);
  const height = MARGIN_PX + LEGEND_PX + maps.reduce((n, m) => n + diskHeightPx(m), 0) + MARGIN_PX;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    legend(MARGIN_PX, MARGIN_PX),
  ];
  let y = MARGIN_PX + LEGEND_PX;
  for (const m of maps) {
    parts.push(diskGroup(m, MARGIN_PX, y));
    y += diskHeightPx(m);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function legend(x: number, y: number): string {
  const items = OWNERS.map((o, i) => {
    const lx = x + i * 100;
    return `<g class="legend"><path d="M${lx} ${y}h12v12h-12z" fill="${COLORS[o]}"/><text x="${lx + 16}" y="${y + 10}">${o}</text></g>`;
  });
  const note = `<g class="legend"><path d="M${x} ${y + 22}h12v12h-12z" fill="${COLORS.data}" fill-opacity="0.3"/><path d="M${x} ${y + 28}h12v6h-12z" fill="${COLORS.data}"/><path d="M${x} ${y + 31}h12v3h-12z" fill="${LIVE_COLOR}"/>` +
    `<text x="${x + 16}" y="${y + 32}">one cell per extent: pale = unwritten, filled from the bottom = written (write pointer), dark = live data bytes</text></g>`;
  return [...items, note].join('\n');
}

function diskGroup(m: DiskExtentMap, x: number, y: number): string {
  const out = [`<g class="disk" data-disk="${m.disk}">`, `<text x="${x}" y="${y + 18}" font-weight="bold">disk ${m.disk}  ${esc(m.path)}  (${m.cells.length} extents of ${formatBytes(m.extentSizeBytes)})</text>`];
  const top = y + DISK_HEADER_PX - 10;
  for (const c of m.cells) out.push(cell(c, m.extentSizeBytes, x + (c.extent % COLUMNS) * (CELL_PX + GAP_PX), top + Math.floor(c.extent / COLUMNS) * (CELL_PX + GAP_PX)));
  const rows = Math.ceil(m.cells.length / COLUMNS);
  out.push(`<text x="${x}" y="${top + rows * (CELL_PX + GAP_PX) + 14}">${esc(totalsText(m))}</text>`, '</g>');
  return out.join('\n');
}

export function totalsText(m: DiskExtentMap): string {
  const counts = OWNERS.map((o) => `${m.counts[o]} ${o}`).join(', ');
  const capacity = m.cells.length * m.extentSizeBytes;
  return `${counts}; written ${formatBytes(m.writtenBytes)} of ${formatBytes(capacity)} (${percent(m.writtenBytes, capacity)}); live data ${formatBytes(m.liveDataBytes)}; ${m.shardCount} shards`;
}

/** One extent: exactly one <rect class="extent">; fill and live parts are paths over it. */
function cell(c: ExtentCell, extentSizeBytes: number, x: number, y: number): string {
  const color = COLORS[c.owner];
  const superblock = c.owner === 'superblock';
  const fill = superblock ? 1 : Math.min(1, c.writePointerBytes / extentSizeBytes);
  const live = Math.min(1, c.liveBytes / extentSizeBytes);
  const title = `extent ${c.extent}: ${c.owner}` + (superblock ? '' : `, written ${formatBytes(c.writePointerBytes)} (${percent(c.writePointerBytes, extentSizeBytes)})`) +
    (c.owner === 'data' ? `, live ${formatBytes(c.liveBytes)} (${percent(c.liveBytes, c.writePointerBytes)} of written)` : '');
  const parts = [`<g><title>${esc(title)}</title>`, `<rect class="extent" data-owner="${c.owner}" x="${x}" y="${y}" width="${CELL_PX}" height="${CELL_PX}" fill="${color}" fill-opacity="${c.owner === 'free' ? 1 : 0.3}"/>`];
  const fillPx = Math.round(fill * CELL_PX * 10) / 10;
  if (fillPx > 0 && c.owner !== 'free') parts.push(`<path d="M${x} ${y + CELL_PX - fillPx}h${CELL_PX}v${fillPx}h-${CELL_PX}z" fill="${color}"/>`);
  const livePx = Math.round(live * CELL_PX * 10) / 10;
  if (livePx > 0) parts.push(`<path d="M${x} ${y + CELL_PX - livePx}h${CELL_PX}v${livePx}h-${CELL_PX}z" fill="${LIVE_COLOR}"/>`);
  parts.push('</g>');
  return parts.join('');
}

/** The SVG in a page of its own, with a table of per-disk totals (no external resources). */
export function renderHtml(maps: readonly DiskExtentMap[]): string {
  const rows = maps.map((m) => {
    const capacity = m.cells.length * m.extentSizeBytes;
    const cells = [String(m.disk), esc(m.path), ...OWNERS.map((o) => String(m.counts[o])), formatBytes(m.writtenBytes), percent(m.writtenBytes, capacity), formatBytes(m.liveDataBytes), String(m.shardCount)];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  const head = ['disk', 'path', ...OWNERS, 'written', 'written %', 'live data', 'shards'].map((h) => `<th>${h}</th>`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><title>ShardStore extent map</title>',
    '<style>body{font-family:sans-serif;margin:16px}table{border-collapse:collapse;margin-top:12px}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style>',
    '</head><body>',
    '<h1>ShardStore extent map</h1>',
    renderSvg(maps),
    `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    '</body></html>',
    '',
  ].join('\n');
}
