import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Api } from '../lib/api.js';
import { bucketFor, formatValue, numeric } from '../lib/format.js';
import { html } from '../lib/html.js';
import type { QueryAnswer } from '../lib/types.js';
import type { Threshold } from '../lib/alerts.js';
import { AXIS, colorOf, Y_AXIS } from './theme.js';
import { drawThresholds, ThresholdLegend, yRangeWith } from './thresholds.js';

export interface HistorySeries {
  metric: string;
  xs: number[];
  ys: (number | null)[];
  bucket?: string;
}

/**
 * One metric over [from, to) (Unix seconds), one bucket per pixel of `width`: a chart never
 * asks for more points than it can draw, and zooming in asks for finer buckets.
 */
export async function fetchSeries(
  api: Api,
  sourceId: string,
  metric: string,
  from: number,
  to: number,
  width: number,
  agg = 'avg',
): Promise<HistorySeries> {
  const spanMs = Math.max(0, (to - from) * 1000);
  const bucket = bucketFor(spanMs, width);
  const answer = await api.get<QueryAnswer>('/api/query', {
    source_id: sourceId,
    metric,
    from: from.toFixed(6),
    to: to.toFixed(6),
    ...(bucket
      ? { bucket: bucket.bucket, agg, limit: Math.min(100_000, Math.ceil(spanMs / bucket.ms) + 2) }
      : { limit: Math.min(100_000, Math.max(1000, Math.ceil(width * 2))) }),
  });
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (const point of answer.points) {
    xs.push(point.timestamp);
    ys.push(numeric(point.value));
  }
  return { metric, xs, ys, bucket: bucket?.bucket };
}

/** The value of `series` nearest to time `t` (seconds). */
export function valueAt(series: HistorySeries, t: number): number | null | undefined {
  const { xs, ys } = series;
  if (!xs.length) return undefined;
  let low = 0;
  let high = xs.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (xs[mid] < t) low = mid + 1;
    else high = mid;
  }
  if (low > 0 && Math.abs(xs[low - 1] - t) < Math.abs(xs[low] - t)) low--;
  return ys[low];
}

const NO_LINES: readonly Threshold[] = [];

interface HistoryChartProps {
  series: HistorySeries;
  index: number;
  /** The x range drawn, so every chart of a page lines up even where one has no points. */
  range: [number, number];
  /** A time cursor (playback) drawn as a line. */
  cursorAt?: number;
  /** Dragging across the chart selects a range to zoom into. */
  onZoom?: (from: number, to: number) => void;
  /** A click (no drag) at a time. */
  onPick?: (t: number) => void;
  syncKey?: string;
  height?: number;
  /** Alert rules' thresholds on this metric, drawn as horizontal lines. */
  thresholds?: readonly Threshold[];
}

export function HistoryChart({
  series,
  index,
  range,
  cursorAt,
  onZoom,
  onPick,
  syncKey,
  height = 180,
  thresholds = NO_LINES,
}: HistoryChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLSpanElement>(null);
  const chart = useRef<uPlot>();
  const props = useRef({ range, cursorAt, onZoom, onPick, thresholds });
  props.current = { range, cursorAt, onZoom, onPick, thresholds };
  const lineKey = thresholds.map((line) => `${line.value}:${line.severity}`).join(',');

  useEffect(() => {
    const container = box.current as HTMLDivElement;
    const color = colorOf(index);
    const instance = new uPlot(
      {
        width: Math.max(200, container.clientWidth),
        height,
        legend: { show: false },
        scales: { x: { time: true, range: () => props.current.range }, y: { range: yRangeWith(() => props.current.thresholds) } },
        axes: [{ ...AXIS }, { ...Y_AXIS }],
        cursor: { drag: { x: true, y: false, setScale: false }, ...(syncKey ? { sync: { key: syncKey } } : {}) },
        // No `points` option: uPlot marks the points only where they are sparse enough to tell apart.
        series: [{}, { label: series.metric, stroke: color, fill: `${color}14`, width: 1.5, spanGaps: false }],
        hooks: {
          setSelect: [
            (u) => {
              const { left, width } = u.select;
              // Charts synced by key all receive the mouseup and set the same selection; only the
              // chart dragged across has the mouse event, so the page zooms once, not once per chart.
              if (width > 4 && u.cursor.event) props.current.onZoom?.(u.posToVal(left, 'x'), u.posToVal(left + width, 'x'));
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            },
          ],
          setCursor: [
            (u) => {
              const i = u.cursor.idx;
              if (!readout.current) return;
              readout.current.textContent =
                i === null || i === undefined
                  ? ''
                  : `${new Date((u.data[0][i] as number) * 1000).toLocaleTimeString()} → ${formatValue(u.data[1][i])}`;
            },
          ],
          draw: [
            (u) => drawThresholds(u, props.current.thresholds),
            (u) => {
              const at = props.current.cursorAt;
              if (at === undefined) return;
              const x = Math.round(u.valToPos(at, 'x', true));
              const { top, height: plotHeight, left, width } = u.bbox;
              if (x < left || x > left + width) return;
              u.ctx.save();
              u.ctx.strokeStyle = '#cf222e';
              u.ctx.lineWidth = 2 * devicePixelRatio;
              u.ctx.beginPath();
              u.ctx.moveTo(x, top);
              u.ctx.lineTo(x, top + plotHeight);
              u.ctx.stroke();
              u.ctx.restore();
            },
          ],
        },
      },
      [series.xs, series.ys],
      container,
    );
    chart.current = instance;
    // A click that is not the end of a drag picks a time (the playback cursor).
    let downX = 0;
    instance.over.addEventListener('mousedown', (event) => (downX = event.clientX));
    instance.over.addEventListener('click', (event) => {
      if (Math.abs(event.clientX - downX) < 4) props.current.onPick?.(instance.posToVal(event.offsetX, 'x'));
    });
    const resize = new ResizeObserver(() => instance.setSize({ width: Math.max(200, container.clientWidth), height }));
    resize.observe(container);
    return () => {
      resize.disconnect();
      instance.destroy();
      chart.current = undefined;
    };
  }, [index, height, syncKey]);

  useEffect(() => {
    chart.current?.setData([series.xs, series.ys], true);
  }, [series, range[0], range[1]]);

  useEffect(() => {
    chart.current?.redraw(false, false);
  }, [cursorAt]);

  // New lines may widen the y scale: set the same data again so the ranges are worked out anew.
  useEffect(() => {
    const instance = chart.current;
    if (instance) instance.setData(instance.data, true);
  }, [lineKey]);

  const points = series.xs.length;
  return html`<figure class="chart" data-metric=${series.metric} data-points=${points} data-thresholds=${thresholds.map((line) => line.value).join(',')}>
    <figcaption>
      <span class="swatch" style=${`background:${colorOf(index)}`} aria-hidden="true"></span><span class="chart-title">${series.metric}</span>
      <span class="chart-readout muted">${points ? `${points} ${series.bucket ? `bucket${points === 1 ? '' : 's'} of ${series.bucket}` : `point${points === 1 ? '' : 's'}`}` : 'no points in this range'}</span>
      <span class="chart-readout" ref=${readout} aria-live="off"></span>
      <${ThresholdLegend} lines=${thresholds} />
    </figcaption>
    <div class="chart-box" ref=${box} role="img" aria-label=${`Chart of ${series.metric}`}></div>
  </figure>`;
}
