import uPlot from 'uplot';
import { SEVERITY_COLORS, type Threshold } from '../lib/alerts.js';
import { html } from '../lib/html.js';

/**
 * Alert rules' thresholds on a chart: a dashed horizontal line per value, in the rule's severity
 * colour, drawn by a uPlot draw hook (no extra series, nothing per point). The y scale stretches
 * to take the lines in, so a threshold above every point is still seen.
 */

/** uPlot's own y range (rangeNum with a 10 % pad), widened to take in the lines. */
export function yRangeWith(lines: () => readonly Threshold[]): uPlot.Range.Function {
  return (_u, dataMin, dataMax) => {
    const values = lines().map((line) => line.value);
    const hasData = dataMin !== null && dataMax !== null && Number.isFinite(dataMin) && Number.isFinite(dataMax);
    if (!values.length) return hasData ? uPlot.rangeNum(dataMin, dataMax, 0.1, true) : [null, null];
    const low = Math.min(...values, ...(hasData ? [dataMin] : []));
    const high = Math.max(...values, ...(hasData ? [dataMax] : []));
    return uPlot.rangeNum(low, high, 0.1, true);
  };
}

export function drawThresholds(u: uPlot, lines: readonly Threshold[]): void {
  if (!lines.length) return;
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  ctx.save();
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  for (const line of lines) {
    const y = Math.round(u.valToPos(line.value, 'y', true));
    if (!Number.isFinite(y) || y < top || y > top + height) continue;
    ctx.strokeStyle = SEVERITY_COLORS[line.severity];
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
  }
  ctx.restore();
}

/** The lines named in the chart's caption, as text (the canvas alone says nothing to a screen reader). */
export function ThresholdLegend({ lines }: { lines: readonly Threshold[] }) {
  if (!lines.length) return null;
  const labels = [...new Set(lines.map((line) => line.label))];
  return html`<span class="chart-thresholds">
    ${labels.map(
      (label) => html`<span class="chart-threshold" data-threshold=${label} key=${label}>
        <span class="threshold-swatch" style=${`border-color:${SEVERITY_COLORS[lines.find((l) => l.label === label)!.severity]}`} aria-hidden="true"></span>${label}
      </span>`,
    )}
  </span>`;
}
