/**
 * Small line charts drawn on the server as inline SVG: no script, no style attribute (the page's CSP
 * allows neither); colours come from classes in admin.css. Only numbers and escaped text go in.
 */

export interface Series {
  label: string;
  /** A class from admin.css: chart-line-1 … chart-line-4. */
  className: string;
  points: readonly (readonly [at: number, value: number])[];
}

export interface ChartOptions {
  title: string;
  series: Series[];
  /** The right edge (ms); the left edge is windowMs before it. */
  now: number;
  windowMs: number;
  format: (value: number) => string;
  /** The y axis reaches at least this high (e.g. 1 participant). */
  minMax?: number;
}

const W = 320;
const H = 100;
const TOP = 14;
const BOTTOM = 84;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** 1, 2 or 5 times a power of ten, at or above `value`. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

const fixed = (n: number) => (Math.round(n * 10) / 10).toString();

export function lineChart(options: ChartOptions): string {
  const { series, now, windowMs, format } = options;
  const start = now - windowMs;
  const values = series.flatMap((s) => s.points.map(([, v]) => v));
  const max = niceMax(Math.max(options.minMax ?? 0, ...values, 0));
  const x = (at: number) => fixed(Math.min(W, Math.max(0, ((at - start) / windowMs) * W)));
  const y = (v: number) => fixed(BOTTOM - (Math.max(0, v) / max) * (BOTTOM - TOP));
  const latest = series.map((s) => `${s.label} ${s.points.length > 0 ? format(s.points.at(-1)![1]) : 'no data'}`).join(', ');
  const parts = [
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(`${options.title}, last 15 minutes: ${latest}`)}" xmlns="http://www.w3.org/2000/svg">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<line class="chart-grid" x1="0" y1="${TOP}" x2="${W}" y2="${TOP}"/>`,
    `<line class="chart-grid" x1="0" y1="${fixed((TOP + BOTTOM) / 2)}" x2="${W}" y2="${fixed((TOP + BOTTOM) / 2)}"/>`,
    `<line class="chart-axis" x1="0" y1="${BOTTOM}" x2="${W}" y2="${BOTTOM}"/>`,
    `<text class="chart-label" x="2" y="${TOP - 3}">${escapeXml(format(max))}</text>`,
    `<text class="chart-label" x="2" y="${H - 2}">-15 min</text>`,
    `<text class="chart-label" x="${W - 2}" y="${H - 2}" text-anchor="end">now</text>`,
  ];
  for (const s of series) {
    const visible = s.points.filter(([at]) => at >= start);
    if (visible.length === 0) continue;
    const cls = escapeXml(s.className);
    if (visible.length === 1) {
      const [at, v] = visible[0]!;
      parts.push(`<circle class="chart-dot ${cls}" cx="${x(at)}" cy="${y(v)}" r="2.5"><title>${escapeXml(s.label)}</title></circle>`);
      continue;
    }
    const points = visible.map(([at, v]) => `${x(at)},${y(v)}`).join(' ');
    parts.push(`<polyline class="chart-line ${cls}" points="${points}"><title>${escapeXml(s.label)}</title></polyline>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

export function formatBitrate(bps: number): string {
  if (bps >= 1e6) return `${fixed(bps / 1e6)} Mb/s`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)} kb/s`;
  return `${Math.round(bps)} b/s`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${fixed(bytes / 1024 ** 3)} GB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MB`;
  return `${Math.round(bytes / 1024)} KB`;
}
