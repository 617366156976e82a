import { useEffect, useRef, useState } from 'preact/hooks';
import { fetchSeries, HistoryChart, type HistorySeries, valueAt } from '../charts/history.js';
import { errorText, saveBlob } from '../lib/api.js';
import { thresholdsFor, useAlerts } from '../lib/alerts.js';
import { useApp, useTitle } from '../lib/context.js';
import { dateTime, duration, formatValue } from '../lib/format.js';
import { html } from '../lib/html.js';
import { devicePath } from '../lib/router.js';
import type { SessionDetail } from '../lib/types.js';
import { EmptyState, ErrorNotice, Loading, Notice, SessionStatusPill, useLoad } from '../lib/ui.js';

const SPEEDS = [1, 4, 16, 64];

export function SessionPage({ sessionId }: { sessionId: string }) {
  const { api } = useApp();
  const detail = useLoad(() => api.get<SessionDetail>(`/api/sessions/${encodeURIComponent(sessionId)}`), [sessionId]);
  const session = detail.data;
  useTitle(session?.name ?? 'Session');

  if (detail.loading && !session) return html`<section class="page"><${Loading} what="Loading the session" /></section>`;
  if (!session) {
    return html`<section class="page"><h1 tabindex="-1">Session</h1><${ErrorNotice} error=${detail.error} />
      <p>Back to <a href="/sessions">all sessions</a>.</p></section>`;
  }
  const ended = session.ended_at ? Date.parse(session.ended_at) : undefined;

  return html`<section class="page" data-session=${session.session_id}>
    <div class="page-head">
      <div>
        <p class="crumbs"><a href="/sessions">Sessions</a> /</p>
        <h1 tabindex="-1">${session.name} <${SessionStatusPill} status=${session.status} /></h1>
        <p class="muted">
          <a href=${devicePath(session.source_id)}>${session.source_id}</a> · started ${dateTime(session.started_at)}
          ${ended ? ` · ${duration(ended - Date.parse(session.started_at))}` : ''} · <span data-point-count=${session.point_count}>${session.point_count.toLocaleString()} points</span>
        </p>
      </div>
      <${ExportButtons} sessionId=${session.session_id} disabled=${session.point_count === 0} />
    </div>
    ${
      session.status === 'active'
        ? html`<${Notice} kind="info">Still recording: this shows what was stored so far. <button type="button" class="button button-small" onClick=${detail.reload}>Refresh</button><//>`
        : null
    }
    ${
      session.point_count === 0 || session.first_point_at === null || session.last_point_at === null
        ? html`<${EmptyState} title="No points in this session">
          <p>${session.status === 'active' ? 'The device has not sent any yet. Points appear here as they are stored; refresh in a moment.' : 'Nothing was recorded. Start a recording from a device page, or send points with this session id over HTTP.'}</p>
        <//>`
        : html`<${Playback} detail=${session} />`
    }
  </section>`;
}

function ExportButtons({ sessionId, disabled }: { sessionId: string; disabled: boolean }) {
  const { api } = useApp();
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState('');
  // The export needs the key header, so it is fetched and handed to the browser as a file.
  const download = async (format: 'csv' | 'ndjson') => {
    setBusy(format);
    setError('');
    try {
      saveBlob(
        await api.blob(`/api/sessions/${encodeURIComponent(sessionId)}/export`, { format }),
        `${sessionId.replace(/[^A-Za-z0-9._-]/g, '_')}.${format}`,
      );
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(undefined);
    }
  };
  return html`<div class="actions">
    <button type="button" class="button" onClick=${() => download('csv')} disabled=${disabled || Boolean(busy)}>${busy === 'csv' ? 'Exporting…' : 'Export CSV'}</button>
    <button type="button" class="button" onClick=${() => download('ndjson')} disabled=${disabled || Boolean(busy)}>${busy === 'ndjson' ? 'Exporting…' : 'Export NDJSON'}</button>
    ${error ? html`<${Notice} kind="error">${error}<//>` : null}
  </div>`;
}

function Playback({ detail }: { detail: SessionDetail }) {
  const { api } = useApp();
  const { rules } = useAlerts({ rules: true });
  const first = detail.first_point_at as number;
  const last = detail.last_point_at as number;
  const range: [number, number] = first === last ? [first - 0.5, last + 0.5] : [first, last];
  const [series, setSeries] = useState<HistorySeries[]>();
  const [error, setError] = useState<unknown>();
  const [at, setAt] = useState(first);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const charts = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let current = true;
    // One bucket per pixel of the plotting area (the chart less its y axis).
    const width = Math.max(100, (charts.current?.clientWidth ?? 800) - 60);
    // `to` is exclusive: reach just past the last point.
    Promise.all(detail.metrics.map((metric) => fetchSeries(api, detail.source_id, metric, first, last + 0.000_001, width))).then(
      (loaded) => current && setSeries(loaded),
      (failure: unknown) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [detail]);

  // Playback moves the cursor at `speed` times real time, one step per animation frame.
  useEffect(() => {
    if (!playing) return;
    let handle = 0;
    let previous = performance.now();
    const step = (now: number) => {
      // A frame's timestamp can precede the moment the effect ran: never step backwards.
      const elapsed = (Math.max(0, now - previous) / 1000) * speed;
      previous = now;
      let reachedEnd = false;
      setAt((t) => {
        const next = Math.min(last, (t >= last ? first : t) + elapsed);
        reachedEnd = next >= last;
        return next;
      });
      if (reachedEnd) setPlaying(false);
      else handle = requestAnimationFrame(step);
    };
    handle = requestAnimationFrame(step);
    return () => cancelAnimationFrame(handle);
  }, [playing, speed]);

  const slider = Math.max(0.001, (last - first) / 1000);
  return html`<div>
    <section class="card panel playback" aria-labelledby="playback-title">
      <div class="panel-head"><h2 id="playback-title">Playback</h2><span class="muted" data-cursor-time=${at}>${new Date(at * 1000).toLocaleTimeString()} · +${at - first < 60 ? `${(at - first).toFixed(1)} s` : duration((at - first) * 1000)}</span></div>
      <div class="toolbar">
        <button type="button" class="button button-primary" onClick=${() => setPlaying(!playing)} aria-pressed=${playing}>${playing ? 'Pause' : 'Play'}</button>
        <div class="field field-inline">
          <label for="playback-speed">Speed</label>
          <select id="playback-speed" value=${speed} onChange=${(e: Event) => setSpeed(Number((e.target as HTMLSelectElement).value))}>
            ${SPEEDS.map((s) => html`<option value=${s}>${s}×</option>`)}
          </select>
        </div>
        <div class="field field-grow">
          <label for="playback-position">Position</label>
          <input id="playback-position" type="range" min=${first} max=${last} step=${slider} value=${at}
            onInput=${(e: Event) => setAt(Number((e.target as HTMLInputElement).value))} aria-valuetext=${new Date(at * 1000).toLocaleTimeString()} />
        </div>
      </div>
      ${
        series
          ? html`<dl class="values">${series.map((s) => html`<div key=${s.metric}><dt>${s.metric}</dt><dd>${formatValue(valueAt(s, at))}</dd></div>`)}</dl>`
          : null
      }
    </section>
    <${ErrorNotice} error=${error} />
    <div class="charts" ref=${charts}>
      ${
        series
          ? series.map(
              (s, i) =>
                html`<${HistoryChart} key=${s.metric} series=${s} index=${i} range=${range} cursorAt=${at} onPick=${setAt} syncKey="session" height=${150}
                  thresholds=${thresholdsFor(rules, detail.source_id, s.metric)} />`,
            )
          : error
            ? null
            : html`<${Loading} what="Loading charts" />`
      }
    </div>
  </div>`;
}
