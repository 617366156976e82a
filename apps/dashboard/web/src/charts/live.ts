import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatValue } from '../lib/format.js';
import { html } from '../lib/html.js';
import type { Threshold } from '../lib/alerts.js';
import { AXIS, colorOf, Y_AXIS } from './theme.js';
import { drawThresholds, ThresholdLegend, yRangeWith } from './thresholds.js';

/** The most points a live chart keeps: 100 Hz for 100 s. */
export const LIVE_CAPACITY = 10_000;

/**
 * A metric's recent points in two typed arrays, oldest first. Appending is O(1); when the
 * arrays fill up the newest half moves to the front, so drawing takes zero-copy subarrays.
 */
export class RingSeries {
  private xs: Float64Array;
  private ys: Float64Array;
  private start = 0;
  private end = 0;
  /** Bumped on every change, so a chart redraws only what changed. */
  version = 0;
  total = 0;
  lastValue: unknown = undefined;
  private readonly arrivals: number[] = [];

  constructor(private readonly capacity = LIVE_CAPACITY) {
    this.xs = new Float64Array(capacity * 2);
    this.ys = new Float64Array(capacity * 2);
  }

  /** `t` in seconds. Points older than the newest are dropped (a stream and a recording send the same ones). */
  push(t: number, y: number | null, raw: unknown): void {
    this.lastValue = raw;
    if (y === null || (this.end > this.start && t <= this.xs[this.end - 1])) return;
    if (this.end === this.xs.length) {
      const keep = this.capacity - 1;
      this.xs.copyWithin(0, this.end - keep, this.end);
      this.ys.copyWithin(0, this.end - keep, this.end);
      this.start = Math.max(0, this.start - (this.end - keep));
      this.end = keep;
    }
    this.xs[this.end] = t;
    this.ys[this.end] = y;
    this.end++;
    if (this.end - this.start > this.capacity) this.start = this.end - this.capacity;
    this.total++;
    this.version++;
    this.arrivals.push(performance.now());
  }

  /** Forgets points older than `t` seconds. */
  trimBefore(t: number): void {
    let start = this.start;
    while (start < this.end && this.xs[start] < t) start++;
    if (start !== this.start) {
      this.start = start;
      this.version++;
    }
  }

  get length(): number {
    return this.end - this.start;
  }

  data(): uPlot.AlignedData {
    return [this.xs.subarray(this.start, this.end), this.ys.subarray(this.start, this.end)];
  }

  /** Points received over the last second. */
  rate(): number {
    const cutoff = performance.now() - 1000;
    while (this.arrivals.length && this.arrivals[0] < cutoff) this.arrivals.shift();
    return this.arrivals.length;
  }
}

/**
 * The device's "now", in seconds: the browser's clock shifted by how far behind it the
 * newest points arrive, so the charts scroll smoothly between batches whatever the device's clock says.
 */
export class LiveClock {
  private offsetMs: number | undefined;

  observe(newestPointMs: number): void {
    const sample = Date.now() - newestPointMs;
    this.offsetMs =
      this.offsetMs === undefined || Math.abs(sample - this.offsetMs) > 5000 ? sample : this.offsetMs + 0.1 * (sample - this.offsetMs);
  }

  now(): number {
    return (Date.now() - (this.offsetMs ?? 0)) / 1000;
  }
}

interface Animated {
  frame(now: number): void;
}

/** One requestAnimationFrame loop for every live chart on the page. */
class Animator {
  private readonly charts = new Set<Animated>();
  private handle = 0;

  add(chart: Animated): () => void {
    this.charts.add(chart);
    if (!this.handle) this.handle = requestAnimationFrame(this.tick);
    return () => {
      this.charts.delete(chart);
      if (!this.charts.size && this.handle) {
        cancelAnimationFrame(this.handle);
        this.handle = 0;
      }
    };
  }

  private readonly tick = (now: number) => {
    for (const chart of this.charts) chart.frame(now);
    this.handle = this.charts.size ? requestAnimationFrame(this.tick) : 0;
  };
}

const animator = new Animator();

const NO_LINES: readonly Threshold[] = [];

/** A scrolling chart of one metric; it redraws on animation frames, never on React renders. */
export function LiveChart({
  metric,
  series,
  liveClock,
  windowS,
  index,
  thresholds = NO_LINES,
}: {
  metric: string;
  series: RingSeries;
  liveClock: LiveClock;
  windowS: number;
  index: number;
  /** Alert rules' thresholds on this metric, drawn as horizontal lines. */
  thresholds?: readonly Threshold[];
}) {
  const box = useRef<HTMLDivElement>(null);
  const figure = useRef<HTMLElement>(null);
  const readout = useRef<HTMLSpanElement>(null);
  const empty = useRef<HTMLParagraphElement>(null);
  const windowRef = useRef(windowS);
  windowRef.current = windowS;
  const linesRef = useRef(thresholds);
  linesRef.current = thresholds;

  useEffect(() => {
    const container = box.current as HTMLDivElement;
    const chart = new uPlot(
      {
        width: Math.max(200, container.clientWidth),
        height: 160,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: yRangeWith(() => linesRef.current) } },
        axes: [{ ...AXIS }, { ...Y_AXIS }],
        series: [{}, { label: metric, stroke: colorOf(index), width: 1.5, points: { show: false } }],
        // The animation loop redraws every frame, so lines that change show on the next one.
        hooks: { draw: [(u) => drawThresholds(u, linesRef.current)] },
      },
      series.data(),
      container,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, container.clientWidth), height: 160 }));
    resize.observe(container);
    let drawnVersion = -1;
    let lastText = 0;
    const stop = animator.add({
      frame(now) {
        const max = liveClock.now();
        const min = max - windowRef.current;
        series.trimBefore(min - 5);
        chart.batch(() => {
          if (series.version !== drawnVersion) {
            chart.setData(series.data(), false);
            drawnVersion = series.version;
          }
          chart.setScale('x', { min, max });
        });
        // Text at 4 Hz is plenty and keeps layout work off most frames.
        if (now - lastText > 250) {
          lastText = now;
          const rate = series.rate();
          if (readout.current)
            readout.current.textContent = series.total ? `${formatValue(series.lastValue)} · ${rate} pt/s` : 'no points yet';
          figure.current?.setAttribute('data-points', String(series.total));
          if (empty.current) empty.current.hidden = series.length > 0;
        }
      },
    });
    return () => {
      stop();
      resize.disconnect();
      chart.destroy();
    };
  }, [series, liveClock, metric, index]);

  return html`<figure class="chart live-chart" ref=${figure} data-metric=${metric} data-points="0" data-thresholds=${thresholds.map((line) => line.value).join(',')}>
    <figcaption><span class="swatch" style=${`background:${colorOf(index)}`} aria-hidden="true"></span><span class="chart-title">${metric}</span>
      <span class="chart-readout" ref=${readout}>no points yet</span><${ThresholdLegend} lines=${thresholds} /></figcaption>
    <div class="chart-stage">
      <div class="chart-box" ref=${box} role="img" aria-label=${`Live chart of ${metric}`}></div>
      <p class="chart-empty" ref=${empty}><span>No live points in this window. Start a stream (or a recording) to see ${metric} here.</span></p>
    </div>
  </figure>`;
}
