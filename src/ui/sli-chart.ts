// A small chart of one SLI's values over its evaluation window, as inline SVG rendered on the
// server: no script, no library, no inline style (the Content-Security-Policy allows none), colours
// from the UI's style sheet by class. Every label goes through html``, so a series label from
// Prometheus renders as text.
import type { RangeSeries } from '../evaluation/providers/prometheus-range.ts';
import { html } from './html.ts';
import type { Html } from './html.ts';

export interface SliChartInput {
  metric: string;
  series: readonly RangeSeries[];
  startMs: number;
  endMs: number;
  /** The pass target's number, drawn as a dashed line (only when the objective has one target). */
  target?: number;
}

export const CHART_WIDTH = 240;
export const CHART_HEIGHT = 64;
/** Room on the left for the y-axis labels. */
const LEFT = 44;
const PAD = 4;
/** Above this many points the line is drawn without a dot per point. */
const MAX_DOTS = 150;

/** A number for a label: four significant digits, no trailing zeros, no exponent for ordinary values. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

const round = (n: number): string => String(Math.round(n * 10) / 10);

function seriesName(metric: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length === 0 ? metric : `${metric}{${pairs.join(', ')}}`;
}

/** The chart, or a sentence when there is nothing to draw. */
export function sliChart(input: SliChartInput): Html {
  const series = input.series.filter((s) => s.points.length > 0);
  const count = series.reduce((n, s) => n + s.points.length, 0);
  if (count === 0 || !(input.endMs > input.startMs))
    return html`<span class="sub">Prometheus has no values for this query in the window.</span>`;
  const values = series.flatMap((s) => s.points.map(([, v]) => v));
  if (input.target !== undefined && Number.isFinite(input.target)) values.push(input.target);
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const innerW = CHART_WIDTH - LEFT - PAD;
  const innerH = CHART_HEIGHT - 2 * PAD;
  const x = (t: number): number =>
    LEFT +
    (Math.min(Math.max(t, input.startMs), input.endMs) - input.startMs) * (innerW / (input.endMs - input.startMs));
  const y = (v: number): number => PAD + (max - v) * (innerH / (max - min));
  const all = series.flatMap((s) => s.points.map(([, v]) => v));
  const low = Math.min(...all);
  const high = Math.max(...all);
  const last = series[0]?.points.at(-1)?.[1];
  const summary =
    `${input.metric}: ${count} value${count === 1 ? '' : 's'} over the window` +
    `${series.length > 1 ? ` in ${series.length} series` : ''}, from ${formatValue(low)} to ${formatValue(high)}` +
    `${last === undefined ? '' : `, last ${formatValue(last)}`}` +
    `${input.target === undefined ? '' : `; target ${formatValue(input.target)}`}`;
  const dots = count <= MAX_DOTS;
  return html`<svg
    class="chart"
    xmlns="http://www.w3.org/2000/svg"
    viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}"
    width="${CHART_WIDTH}"
    height="${CHART_HEIGHT}"
    role="img"
    aria-label="${summary}"
    data-points="${count}"
  >
    <title>${summary}</title>
    <line class="axis" x1="${LEFT}" y1="${PAD}" x2="${LEFT}" y2="${PAD + innerH}" />
    <line class="axis" x1="${LEFT}" y1="${PAD + innerH}" x2="${LEFT + innerW}" y2="${PAD + innerH}" />
    <text class="tick" x="${LEFT - 3}" y="${PAD + 7}" text-anchor="end">${formatValue(max)}</text>
    <text class="tick" x="${LEFT - 3}" y="${PAD + innerH}" text-anchor="end">${formatValue(min)}</text>
    ${
      input.target === undefined || !Number.isFinite(input.target)
        ? ''
        : html`<line
            class="target"
            x1="${LEFT}"
            y1="${round(y(input.target))}"
            x2="${LEFT + innerW}"
            y2="${round(y(input.target))}"
          >
            <title>target ${formatValue(input.target)}</title>
          </line>`
    }
    ${series.map(
      (s, i) =>
        html`<g class="series series-${i % 5}">
          <title>${seriesName(input.metric, s.labels)}</title>
          <polyline points="${s.points.map(([t, v]) => `${round(x(t))},${round(y(v))}`).join(' ')}" />
          ${dots ? s.points.map(([t, v]) => html`<circle class="point" cx="${round(x(t))}" cy="${round(y(v))}" r="1.6" />`) : ''}
        </g>`,
    )}
  </svg>`;
}
