import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { LiveChart, LiveClock, RingSeries } from '../charts/live.js';
import { thresholdsFor, useAlerts } from '../lib/alerts.js';
import { useApp, useFrames, useRealtimeState, useScope, useTitle } from '../lib/context.js';
import { numeric, relativeTime } from '../lib/format.js';
import { html } from '../lib/html.js';
import { randomId } from '../lib/realtime.js';
import type { BrowserToServerFrame, LivePoint, Source } from '../lib/types.js';
import { EmptyState, ErrorNotice, Loading, Notice, StatusPill, useLoad, useTicker } from '../lib/ui.js';
import { RecordingPanel, SensorsPanel } from './device-panels.js';
import { TerminalPanel } from './terminal.js';

const INTERVALS = [50, 100, 250, 500, 1000];
const WINDOWS = [10, 30, 60];

export function DevicePage({ sourceId }: { sourceId: string }) {
  const { api } = useApp();
  const rt = useRealtimeState();
  const now = useTicker(15_000);
  const sources = useLoad(() => api.get<{ sources: Source[] }>('/api/sources').then((answer) => answer.sources), [sourceId]);
  const source = sources.data?.find((s) => s.source_id === sourceId);
  useTitle(source?.name ?? sourceId);
  const online = rt.state === 'live' ? rt.isOnline(sourceId) : Boolean(source?.online);
  const [deviceMessage, setDeviceMessage] = useState<{ kind: 'error' | 'info'; text: string }>();

  // Come back online: its description (sensors, platform) may have changed.
  useFrames((frame) => {
    if (!('source_id' in frame) || frame.source_id !== sourceId) return;
    if (frame.type === 'source_status' && frame.status === 'online') sources.reload();
    if (frame.type === 'error' && typeof frame.message === 'string' && !('id' in frame && frame.id))
      setDeviceMessage({ kind: 'error', text: frame.message });
  });

  if (sources.loading && !sources.data) return html`<section class="page"><${Loading} what="Loading the device" /></section>`;
  if (!source) {
    return html`<section class="page">
      <h1 tabindex="-1">${sourceId}</h1>
      <${ErrorNotice} error=${sources.error} />
      ${sources.data ? html`<${EmptyState} title="No such device"><p>No device or source with this id belongs to your org. It may have been removed. Back to the <a href="/fleet">fleet</a>.</p><//>` : null}
    </section>`;
  }

  return html`<section class="page device-page" data-source=${sourceId}>
    <div class="page-head">
      <div>
        <p class="crumbs"><a href="/fleet">Fleet</a> /</p>
        <h1 tabindex="-1">${source.name || sourceId} <${StatusPill} online=${online} /></h1>
        <p class="muted"><code>${sourceId}</code> · ${source.platform || 'platform unknown'} · ${online ? 'connected now' : `last seen ${relativeTime(source.last_seen, now)}`}</p>
      </div>
    </div>
    ${online ? null : html`<${Notice} kind="info">This device is offline. Run <code>plexus run</code> on it to stream, record, configure sensors or run commands; its recorded sessions stay available.<//>`}
    ${deviceMessage ? html`<${Notice} kind=${deviceMessage.kind}>The device says: ${deviceMessage.text}<//>` : null}
    <${LivePanel} source=${source} online=${online} />
    <div class="two-columns">
      <${SensorsPanel} source=${source} online=${online} />
      <${RecordingPanel} source=${source} online=${online} />
    </div>
    <${TerminalPanel} source=${source} online=${online} />
  </section>`;
}

function sensorMetrics(source: Source): string[] {
  return [...new Set(source.sensors.flatMap((sensor) => sensor.metrics ?? []))];
}

function LivePanel({ source, online }: { source: Source; online: boolean }) {
  const { rt } = useApp();
  const { rules } = useAlerts({ rules: true });
  const canControl = useScope('control');
  const sourceId = source.source_id;
  const known = sensorMetrics(source);
  const [seen, setSeen] = useState<string[]>([]);
  const metrics = [...known, ...seen.filter((m) => !known.includes(m))];
  const [selected, setSelected] = useState<string[]>(() => known.slice(0, 3));
  const [intervalMs, setIntervalMs] = useState(100);
  const [windowS, setWindowS] = useState(30);
  const [streamId, setStreamId] = useState<string>();
  const [problem, setProblem] = useState('');
  const series = useRef(new Map<string, RingSeries>());
  const liveClock = useMemo(() => new LiveClock(), [sourceId]);

  const seriesOf = (metric: string) => {
    let found = series.current.get(metric);
    if (!found) series.current.set(metric, (found = new RingSeries()));
    return found;
  };

  const startFrame = (id: string, wanted: string[], interval: number): BrowserToServerFrame => ({
    type: 'start_stream',
    id,
    source_id: sourceId,
    // The "source:metric" form is the one both this agent and the Python agent read.
    metrics: wanted.map((metric) => `${sourceId}:${metric}`),
    interval_ms: interval,
  });

  useFrames((frame) => {
    if (frame.type === 'init' && streamId) rt.send(startFrame(streamId, selected, intervalMs));
    if (!('source_id' in frame) || frame.source_id !== sourceId) return;
    if (frame.type === 'telemetry' && Array.isArray(frame.points)) {
      let newest = 0;
      let fresh: string[] | undefined;
      for (const point of frame.points as LivePoint[]) {
        if (typeof point?.metric !== 'string' || typeof point.timestamp !== 'number') continue;
        seriesOf(point.metric).push(point.timestamp / 1000, numeric(point.value), point.value);
        if (point.timestamp > newest) newest = point.timestamp;
        if (!known.includes(point.metric) && !seen.includes(point.metric) && !fresh?.includes(point.metric))
          (fresh ??= []).push(point.metric);
      }
      if (newest) liveClock.observe(newest);
      if (fresh) setSeen((previous) => [...previous, ...fresh!.filter((m) => !previous.includes(m))]);
    }
    const code = frame.type === 'error' && 'code' in frame ? frame.code : undefined;
    if (frame.type === 'error' && streamId && (('id' in frame && frame.id === streamId) || code === 'DEVICE_OFFLINE')) {
      setProblem(String(frame.message ?? code));
      if (code === 'DEVICE_OFFLINE') setStreamId(undefined);
    }
    if (frame.type === 'source_status' && frame.status === 'offline' && streamId) {
      setStreamId(undefined);
      setProblem('The device went offline; the stream stopped.');
    }
  });

  // Leaving the page ends our stream on the device.
  const current = useRef<string>();
  current.current = streamId;
  useEffect(() => () => void (current.current && rt.send({ type: 'stop_stream', id: current.current, source_id: sourceId })), []);

  const start = () => {
    const id = randomId('stream');
    setProblem('');
    if (!rt.send(startFrame(id, selected, intervalMs))) {
      setProblem('Not connected to the realtime server yet; try again in a moment.');
      return;
    }
    setStreamId(id);
  };
  const stop = () => {
    if (streamId) rt.send({ type: 'stop_stream', id: streamId, source_id: sourceId });
    setStreamId(undefined);
  };
  const change = (nextSelected: string[], nextInterval: number) => {
    setSelected(nextSelected);
    setIntervalMs(nextInterval);
    // The agent replaces a stream started again under the same id.
    if (streamId && nextSelected.length) rt.send(startFrame(streamId, nextSelected, nextInterval));
    if (streamId && !nextSelected.length) stop();
  };
  const toggle = (metric: string) =>
    change(selected.includes(metric) ? selected.filter((m) => m !== metric) : [...selected, metric], intervalMs);

  const why = !canControl
    ? 'Streaming needs an API key with the control scope.'
    : !online
      ? 'The device is offline.'
      : metrics.length && !selected.length
        ? 'Choose at least one metric.'
        : '';

  return html`<section class="card panel" aria-labelledby="live-title">
    <div class="panel-head">
      <h2 id="live-title">Live view</h2>
      <span class=${`pill ${streamId ? 'pill-info' : 'pill-offline'}`} data-streaming=${String(Boolean(streamId))}>${streamId ? 'Streaming' : 'Not streaming'}</span>
    </div>
    ${
      metrics.length
        ? html`<fieldset class="metric-picker">
          <legend>Metrics</legend>
          ${metrics.map((metric) => html`<label class="check" key=${metric}><input type="checkbox" checked=${selected.includes(metric)} onChange=${() => toggle(metric)} /> ${metric}</label>`)}
        </fieldset>`
        : html`<p class="muted">This device reported no sensors. Start a stream to see whatever it sends.</p>`
    }
    <div class="toolbar">
      <div class="field field-inline">
        <label for="stream-interval">Send every</label>
        <select id="stream-interval" value=${intervalMs} onChange=${(e: Event) => change(selected, Number((e.target as HTMLSelectElement).value))}>
          ${INTERVALS.map((ms) => html`<option value=${ms}>${ms} ms</option>`)}
        </select>
      </div>
      <div class="field field-inline">
        <label for="stream-window">Show the last</label>
        <select id="stream-window" value=${windowS} onChange=${(e: Event) => setWindowS(Number((e.target as HTMLSelectElement).value))}>
          ${WINDOWS.map((s) => html`<option value=${s}>${s} s</option>`)}
        </select>
      </div>
      ${
        streamId
          ? html`<button type="button" class="button" onClick=${stop}>Stop stream</button>`
          : html`<button type="button" class="button button-primary" onClick=${start} disabled=${Boolean(why)} aria-describedby="stream-why">Start stream</button>`
      }
      <span class="help" id="stream-why">${streamId ? '' : why}</span>
    </div>
    ${problem ? html`<${Notice} kind="warning">${problem}<//>` : null}
    <div class="charts">
      ${(selected.length ? selected : seen).map(
        (
          metric,
        ) => html`<${LiveChart} key=${metric} metric=${metric} series=${seriesOf(metric)} liveClock=${liveClock} windowS=${windowS} index=${metrics.indexOf(metric)}
        thresholds=${thresholdsFor(rules, sourceId, metric)} />`,
      )}
    </div>
  </section>`;
}
