#!/usr/bin/env node
// Renders every dashboard of dashboards/*.json as a PNG picture from a real Prometheus: each
// panel's queries are evaluated over a time range through Prometheus' HTTP API (query_range) and
// drawn as a line chart in the dashboard's own grid, as SVG, which headless Chromium turns into a
// PNG. This is not Grafana (Grafana is not packaged for the build machines); it shows what each
// panel's PromQL returns for a run, laid out as the dashboard lays it out.
//
//   node deploy/grafana/render-panels.mjs --prometheus http://127.0.0.1:9090 --start <unix s> --end <unix s> --out docs/img
//
// Options: --step (s, default: range / 240), --rate-interval (for $__rate_interval, default 30s),
// --note (a line under each title), --chromium (default /usr/bin/chromium or $CHROMIUM_PATH).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    prometheus: { type: 'string', default: 'http://127.0.0.1:9090' },
    start: { type: 'string' },
    end: { type: 'string' },
    step: { type: 'string' },
    'rate-interval': { type: 'string', default: '30s' },
    out: { type: 'string', default: join(here, '..', '..', 'docs', 'img') },
    dashboards: { type: 'string', default: join(here, 'dashboards') },
    note: { type: 'string', default: '' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
  },
});
const end = Number(values.end ?? Math.floor(Date.now() / 1000));
const start = Number(values.start ?? end - 600);
const step = Number(values.step ?? Math.max(1, Math.round((end - start) / 240)));

const WIDTH = 1600;
const UNIT_H = 34; // pixels per Grafana grid row unit
const HEADER = 82;
const COLORS = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0', '#508642', '#cca300'];

async function queryRange(expr) {
  const url = new URL('/api/v1/query_range', values.prometheus);
  url.search = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) }).toString();
  const response = await fetch(url);
  const body = await response.json();
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? response.status}`);
  return body.data.result.map((r) => ({
    labels: r.metric,
    points: r.values.map(([t, v]) => [Number(t), Number(v)]).filter(([, v]) => Number.isFinite(v)),
  }));
}

const escapeXml = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function formatValue(value, unit) {
  const abs = Math.abs(value);
  // Digits by the scaled number's own size: 1500 is 1.5k, not 2k.
  const trim = (n) => {
    const a = Math.abs(n);
    return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(a >= 10 ? 0 : a >= 1 ? 1 : 2)));
  };
  const si = (v, suffix = '') => {
    const a = Math.abs(v);
    if (a >= 1e9) return `${trim(v / 1e9)}G${suffix}`;
    if (a >= 1e6) return `${trim(v / 1e6)}M${suffix}`;
    if (a >= 1e3) return `${trim(v / 1e3)}k${suffix}`;
    return `${trim(v)}${suffix}`;
  };
  switch (unit) {
    case 's':
      if (abs === 0) return '0';
      if (abs < 1e-3) return `${trim(value * 1e6)} µs`;
      if (abs < 1) return `${trim(value * 1e3)} ms`;
      return `${trim(value)} s`;
    case 'percentunit':
      return `${trim(value * 100)}%`;
    case 'ops':
      return si(value, '/s');
    case 'reqps':
      return si(value, ' req/s');
    case 'Bps':
      return si(value, 'B/s');
    case 'bytes':
      return si(value, 'B');
    default:
      return si(value);
  }
}

function niceMax(max) {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * magnitude >= max) return m * magnitude;
  return 10 * magnitude;
}

const clock = (t) => new Date(t * 1000).toISOString().slice(11, 19);

/** One panel as SVG elements inside a box of width w and height h at (x, y). */
function panelSvg(panel, series, x, y, w, h) {
  const unit = panel.fieldConfig?.defaults?.unit ?? 'short';
  const out = [
    `<rect x="${x + 4}" y="${y + 4}" width="${w - 8}" height="${h - 8}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x + 14}" y="${y + 24}" fill="#d8d9da" font-size="14" font-weight="600">${escapeXml(panel.title)}</text>`,
  ];
  const legendRows = Math.min(3, Math.ceil(series.length / 3));
  const plot = { left: x + 70, top: y + 36, right: x + w - 18, bottom: y + h - 22 - legendRows * 16 };
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) {
    out.push(`<text x="${x + w / 2}" y="${y + h / 2}" fill="#8e8e8e" font-size="14" text-anchor="middle">No data</text>`);
    return out.join('');
  }
  const max = niceMax(Math.max(...points.map(([, v]) => v)));
  const sx = (t) => plot.left + ((t - start) / Math.max(1, end - start)) * (plot.right - plot.left);
  const sy = (v) => plot.bottom - (Math.max(0, v) / max) * (plot.bottom - plot.top);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    out.push(
      `<line x1="${plot.left}" x2="${plot.right}" y1="${sy(v)}" y2="${sy(v)}" stroke="#2c3235"/>`,
      `<text x="${plot.left - 6}" y="${sy(v) + 4}" fill="#8e8e8e" font-size="11" text-anchor="end">${escapeXml(formatValue(v, unit))}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const t = start + ((end - start) * i) / 4;
    out.push(
      `<text x="${sx(t)}" y="${plot.bottom + 15}" fill="#8e8e8e" font-size="11" text-anchor="${i === 4 ? 'end' : 'middle'}">${clock(t)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    // A gap in the data (a series absent for a while) breaks the line, as Grafana draws it.
    const segments = [];
    let current = [];
    for (const [t, v] of s.points) {
      const previous = current.at(-1);
      if (previous && t - previous[0] > step * 2.5) {
        segments.push(current);
        current = [];
      }
      current.push([t, v]);
    }
    segments.push(current);
    for (const segment of segments) {
      if (segment.length === 1) {
        out.push(`<circle cx="${sx(segment[0][0])}" cy="${sy(segment[0][1])}" r="2" fill="${color}"/>`);
      } else {
        const d = segment.map(([t, v], k) => `${k === 0 ? 'M' : 'L'}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`).join('');
        out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
      }
    }
    if (i < 9) {
      const lx = x + 14 + (i % 3) * ((w - 28) / 3);
      const ly = plot.bottom + 32 + Math.floor(i / 3) * 16;
      const legend = s.legend.length > 48 ? `${s.legend.slice(0, 46)}…` : s.legend;
      out.push(
        `<rect x="${lx}" y="${ly - 8}" width="12" height="3" fill="${color}"/>`,
        `<text x="${lx + 17}" y="${ly - 3}" fill="#ccccdc" font-size="11">${escapeXml(legend)}</text>`,
      );
    }
  });
  if (series.length > 9) {
    out.push(
      `<text x="${x + w - 14}" y="${plot.bottom + 32}" fill="#8e8e8e" font-size="11" text-anchor="end">+${series.length - 9} more</text>`,
    );
  }
  return out.join('');
}

function legendOf(format, labels, expr) {
  if (!format) return Object.keys(labels).length ? JSON.stringify(labels) : expr;
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name) => labels[name] ?? '');
}

async function render(file, workDir) {
  const dashboard = JSON.parse(readFileSync(join(values.dashboards, file), 'utf8'));
  const bottom = Math.max(...dashboard.panels.map((p) => p.gridPos.y + p.gridPos.h));
  const height = HEADER + bottom * UNIT_H + 8;
  const parts = [
    `<rect width="${WIDTH}" height="${height}" fill="#111217"/>`,
    `<text x="16" y="30" fill="#d8d9da" font-size="20" font-weight="600">${escapeXml(dashboard.title)}</text>`,
    `<text x="16" y="52" fill="#8e8e8e" font-size="12">${escapeXml(
      `Panel queries evaluated by Prometheus over ${clock(start)}–${clock(end)} UTC (step ${step} s, $__rate_interval = ${values['rate-interval']}); not Grafana.`,
    )}</text>`,
    `<text x="16" y="70" fill="#8e8e8e" font-size="12">${escapeXml(values.note)}</text>`,
  ];
  const unit = WIDTH / 24;
  let empty = 0;
  for (const panel of dashboard.panels) {
    const x = panel.gridPos.x * unit;
    const y = HEADER + panel.gridPos.y * UNIT_H;
    if (panel.type === 'row') {
      parts.push(`<text x="${x + 10}" y="${y + 23}" fill="#d8d9da" font-size="15" font-weight="600">${escapeXml(panel.title)}</text>`);
      continue;
    }
    const series = [];
    for (const target of panel.targets ?? []) {
      const expr = target.expr.replaceAll('$__rate_interval', values['rate-interval']);
      for (const result of await queryRange(expr)) {
        series.push({ ...result, legend: legendOf(target.legendFormat, result.labels, expr) });
      }
    }
    if (series.every((s) => s.points.length === 0)) empty++;
    parts.push(panelSvg(panel, series, x, y, panel.gridPos.w * unit, panel.gridPos.h * UNIT_H));
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="Inter, 'DejaVu Sans', sans-serif">${parts.join('')}</svg>`;
  const html = join(workDir, `${file}.html`);
  writeFileSync(html, `<!doctype html><html><body style="margin:0;background:#111217">${svg}</body></html>`);
  const png = join(resolve(values.out), file.replace(/\.json$/, '.png'));
  execFileSync(
    values.chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--window-size=${WIDTH},${height}`,
      `--screenshot=${png}`,
      `file://${html}`,
    ],
    { stdio: 'ignore', timeout: 60_000 },
  );
  const panels = dashboard.panels.filter((p) => p.type !== 'row').length;
  console.log(`${png}: ${panels} panels, ${empty} without data`);
}

mkdirSync(resolve(values.out), { recursive: true });
const workDir = mkdtempSync(join(tmpdir(), 'chat-panels-'));
try {
  for (const file of readdirSync(values.dashboards)
    .filter((f) => f.endsWith('.json'))
    .sort())
    await render(file, workDir);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
