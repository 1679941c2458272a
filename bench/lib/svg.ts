// The chart: throughput by in-flight count, one small panel per workload
// (size and cache state), one line per system, written as SVG by hand.
// x: in-flight count (1, 16, 64, evenly spaced); y: operations per second
// from 0 to the panel's maximum.
import type { RatedRow } from './protocol.js';
import { formatRate } from './rows.js';
import { sizeLabel } from './task.js';

const PANEL_W = 300;
const PANEL_H = 190;
const PAD = { left: 52, right: 10, top: 26, bottom: 28 };
const COLUMNS = 3;
const PALETTE = ['#d62728', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000', '#393b79', '#e7ba52', '#637939', '#843c39', '#7b4173'];

interface Panel {
  readonly title: string;
  readonly rows: RatedRow[];
}

function panelsOf(rows: readonly RatedRow[]): Panel[] {
  const panels = new Map<string, Panel>();
  for (const r of rows) {
    if (r.inFlight === undefined || r.opsPerSec === undefined || r.section === 'check' || r.section === 'open' || r.section === 'churn') continue;
    const title = `${r.workload}${r.sizeBytes === undefined ? '' : ` ${sizeLabel(r.sizeBytes)}`}${r.client === undefined ? '' : ` (${r.client.split(' ')[0] ?? ''})`}`;
    let p = panels.get(title);
    if (p === undefined) panels.set(title, (p = { title, rows: [] }));
    p.rows.push(r);
  }
  return [...panels.values()];
}

function seriesName(r: RatedRow): string {
  return r.system;
}

export function throughputSvg(rows: readonly RatedRow[], caption: string): string {
  const panels = panelsOf(rows);
  const systems = [...new Set(panels.flatMap((p) => p.rows.map(seriesName)))];
  const color = new Map(systems.map((s, i) => [s, PALETTE[i % PALETTE.length] ?? '#000']));
  const legendH = 22 + Math.ceil(systems.length / 4) * 16;
  const width = COLUMNS * PANEL_W;
  const height = legendH + Math.ceil(panels.length / COLUMNS) * PANEL_H + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="14" font-size="12" font-weight="bold">${escapeXml(caption)}</text>`,
  ];
  systems.forEach((s, i) => {
    const x = 8 + (i % 4) * (width / 4);
    const y = 30 + Math.floor(i / 4) * 16;
    out.push(`<rect x="${x}" y="${y - 8}" width="14" height="4" fill="${color.get(s) ?? '#000'}"/>`, `<text x="${x + 18}" y="${y - 3}">${escapeXml(s)}</text>`);
  });
  panels.forEach((p, i) => out.push(panel(p, (i % COLUMNS) * PANEL_W, legendH + Math.floor(i / COLUMNS) * PANEL_H, color)));
  out.push(`<text x="8" y="${height - 6}" fill="#555">x: operations in flight; y: operations per second (each panel its own scale)</text>`, '</svg>');
  return out.join('\n');
}

function panel(p: Panel, x0: number, y0: number, color: ReadonlyMap<string, string>): string {
  const inFlights = [...new Set(p.rows.map((r) => r.inFlight ?? 0))].sort((a, b) => a - b);
  const maxY = Math.max(1, ...p.rows.map((r) => r.opsPerSec ?? 0)) * 1.08;
  const w = PANEL_W - PAD.left - PAD.right;
  const h = PANEL_H - PAD.top - PAD.bottom;
  const px = (n: number): number => x0 + PAD.left + (inFlights.length <= 1 ? w / 2 : (inFlights.indexOf(n) / (inFlights.length - 1)) * w);
  const py = (v: number): number => y0 + PAD.top + h - (v / maxY) * h;
  const out: string[] = [
    `<text x="${x0 + PAD.left}" y="${y0 + 14}" font-weight="bold">${escapeXml(p.title)}</text>`,
    `<rect x="${x0 + PAD.left}" y="${y0 + PAD.top}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`,
  ];
  for (const f of [0, 0.5, 1]) {
    const v = (maxY / 1.08) * f;
    out.push(`<text x="${x0 + PAD.left - 4}" y="${py(v) + 3}" text-anchor="end" fill="#555">${formatRate(v)}</text>`);
  }
  for (const n of inFlights) out.push(`<text x="${px(n)}" y="${y0 + PAD.top + h + 12}" text-anchor="middle" fill="#555">${n}</text>`);
  const bySystem = new Map<string, RatedRow[]>();
  for (const r of p.rows) bySystem.set(seriesName(r), [...(bySystem.get(seriesName(r)) ?? []), r]);
  for (const [system, rows] of bySystem) {
    const points = rows.sort((a, b) => (a.inFlight ?? 0) - (b.inFlight ?? 0)).map((r) => `${px(r.inFlight ?? 0).toFixed(1)},${py(r.opsPerSec ?? 0).toFixed(1)}`);
    const c = color.get(system) ?? '#000';
    // The physical limit is dashed: it is the ceiling, not a competitor.
    const dash = rows[0]?.kind === 'raw' ? ' stroke-dasharray="5,3"' : '';
    out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${c}" stroke-width="1.6"${dash}/>`);
    for (const pt of points) {
      const [cx, cy] = pt.split(',');
      out.push(`<circle cx="${cx ?? 0}" cy="${cy ?? 0}" r="2.2" fill="${c}"/>`);
    }
  }
  return out.join('\n');
}

function escapeXml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
