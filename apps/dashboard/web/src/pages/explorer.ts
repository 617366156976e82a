import { useEffect, useRef, useState } from 'preact/hooks';
import { fetchSeries, HistoryChart, type HistorySeries } from '../charts/history.js';
import { thresholdsFor, useAlerts } from '../lib/alerts.js';
import { useApp, useTitle } from '../lib/context.js';
import { dateTime } from '../lib/format.js';
import { html } from '../lib/html.js';
import { navigate } from '../lib/router.js';
import type { Source } from '../lib/types.js';
import { EmptyState, ErrorNotice, Loading, useLoad } from '../lib/ui.js';

const RANGES: Array<{ label: string; seconds: number }> = [
  { label: 'Last 5 minutes', seconds: 300 },
  { label: 'Last 15 minutes', seconds: 900 },
  { label: 'Last hour', seconds: 3600 },
  { label: 'Last 6 hours', seconds: 21_600 },
  { label: 'Last 24 hours', seconds: 86_400 },
  { label: 'Last 7 days', seconds: 604_800 },
];
const AGGREGATES = ['avg', 'min', 'max', 'last'];

/** A local datetime-local value for Unix seconds, and back. */
const toLocalInput = (t: number) => {
  const date = new Date(t * 1000);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
};
const fromLocalInput = (value: string) => Date.parse(value) / 1000;

interface View {
  sourceId: string;
  metrics: string[];
  from: number;
  to: number;
  agg: string;
}

function readView(): View {
  const params = new URLSearchParams(location.search);
  const now = Date.now() / 1000;
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  return {
    sourceId: params.get('source') ?? '',
    metrics: (params.get('metrics') ?? '').split(',').filter(Boolean),
    from: Number.isFinite(from) && from > 0 ? from : now - 900,
    to: Number.isFinite(to) && to > 0 ? to : now,
    agg: AGGREGATES.includes(params.get('agg') ?? '') ? (params.get('agg') as string) : 'avg',
  };
}

export function ExplorerPage() {
  useTitle('Explorer');
  const { api } = useApp();
  const { rules } = useAlerts({ rules: true });
  const sources = useLoad(() => api.get<{ sources: Source[] }>('/api/sources').then((answer) => answer.sources), []);
  const [view, setView] = useState<View>(readView);
  const [draft, setDraft] = useState<View>(view);
  const [history, setHistory] = useState<Array<[number, number]>>([]);
  const [extra, setExtra] = useState('');
  const [series, setSeries] = useState<HistorySeries[]>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const charts = useRef<HTMLDivElement>(null);

  const source = sources.data?.find((s) => s.source_id === draft.sourceId);
  const known = [...new Set([...(source?.sensors.flatMap((s) => s.metrics ?? []) ?? []), ...draft.metrics])];

  // Pick the first device once the list arrives, so the page is never blank — unless the user
  // chose one first: the list renders before this effect runs, and a choice made in between stands.
  useEffect(() => {
    if (!draft.sourceId && sources.data?.length) {
      const first = sources.data[0];
      const metrics = [...new Set(first.sensors.flatMap((s) => s.metrics ?? []))].slice(0, 3);
      setDraft((d) => (d.sourceId ? d : { ...d, sourceId: first.source_id, metrics }));
      setView((v) => (v.sourceId ? v : { ...v, sourceId: first.source_id, metrics }));
    }
  }, [sources.data]);

  // Every change of the view (show, zoom) is a new fetch at the resolution that fits it.
  useEffect(() => {
    if (!view.sourceId || !view.metrics.length) return;
    let current = true;
    const query = new URLSearchParams({
      source: view.sourceId,
      metrics: view.metrics.join(','),
      from: view.from.toFixed(3),
      to: view.to.toFixed(3),
      agg: view.agg,
    });
    navigate(`/explorer?${query}`, { replace: true });
    setLoading(true);
    setError(undefined);
    const width = Math.max(100, (charts.current?.clientWidth ?? 800) - 60);
    Promise.all(view.metrics.map((metric) => fetchSeries(api, view.sourceId, metric, view.from, view.to, width, view.agg))).then(
      (loaded) => {
        if (!current) return;
        setSeries(loaded);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [view]);

  const show = (event: Event) => {
    event.preventDefault();
    setHistory([]);
    setView({ ...draft });
  };
  const preset = (seconds: number) => {
    const now = Date.now() / 1000;
    const next = { ...draft, from: now - seconds, to: now };
    setDraft(next);
    setHistory([]);
    if (next.sourceId && next.metrics.length) setView(next);
  };
  const zoom = (from: number, to: number) => {
    if (to - from < 0.01) return;
    setHistory((h) => [...h, [view.from, view.to]]);
    setView((v) => ({ ...v, from, to }));
    setDraft((d) => ({ ...d, from, to }));
  };
  const back = () => {
    const previous = history[history.length - 1];
    if (!previous) return;
    setHistory((h) => h.slice(0, -1));
    setView((v) => ({ ...v, from: previous[0], to: previous[1] }));
    setDraft((d) => ({ ...d, from: previous[0], to: previous[1] }));
  };
  const toggle = (metric: string) =>
    setDraft((d) => ({ ...d, metrics: d.metrics.includes(metric) ? d.metrics.filter((m) => m !== metric) : [...d.metrics, metric] }));
  const addMetric = () => {
    const metric = extra.trim();
    if (metric && !draft.metrics.includes(metric)) setDraft((d) => ({ ...d, metrics: [...d.metrics, metric] }));
    setExtra('');
  };

  if (sources.data && sources.data.length === 0) {
    return html`<section class="page"><h1 tabindex="-1">Explorer</h1>
      <${EmptyState} title="Nothing to explore yet"><p>Pair a device from the <a href="/fleet">fleet</a> or send points over HTTP; their history can be charted here.</p><//></section>`;
  }

  return html`<section class="page">
    <div class="page-head"><div><h1 tabindex="-1">Explorer</h1><p class="muted">Chart any metric over any time range. Drag across a chart to zoom in.</p></div></div>
    <form class="card panel explorer-form" onSubmit=${show}>
      <div class="form-grid">
        <div class="field">
          <label for="explore-source">Device</label>
          <select id="explore-source" value=${draft.sourceId} onChange=${(e: Event) => {
            const sourceId = (e.target as HTMLSelectElement).value;
            const next = sources.data?.find((s) => s.source_id === sourceId);
            setDraft((d) => ({ ...d, sourceId, metrics: [...new Set(next?.sensors.flatMap((s) => s.metrics ?? []) ?? [])].slice(0, 3) }));
          }}>
            ${(sources.data ?? []).map((s) => html`<option value=${s.source_id}>${s.name || s.source_id}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="explore-range">Quick range</label>
          <select id="explore-range" value="" onChange=${(e: Event) => {
            const seconds = Number((e.target as HTMLSelectElement).value);
            if (seconds) preset(seconds);
          }}>
            <option value="">Choose…</option>
            ${RANGES.map((r) => html`<option value=${r.seconds}>${r.label}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="explore-from">From</label>
          <input id="explore-from" type="datetime-local" step="1" value=${toLocalInput(draft.from)} onChange=${(e: Event) => setDraft((d) => ({ ...d, from: fromLocalInput((e.target as HTMLInputElement).value) || d.from }))} />
        </div>
        <div class="field">
          <label for="explore-to">To</label>
          <input id="explore-to" type="datetime-local" step="1" value=${toLocalInput(draft.to)} onChange=${(e: Event) => setDraft((d) => ({ ...d, to: fromLocalInput((e.target as HTMLInputElement).value) || d.to }))} />
        </div>
        <div class="field">
          <label for="explore-agg">Aggregate</label>
          <select id="explore-agg" value=${draft.agg} onChange=${(e: Event) => setDraft((d) => ({ ...d, agg: (e.target as HTMLSelectElement).value }))}>
            ${AGGREGATES.map((a) => html`<option value=${a}>${a}</option>`)}
          </select>
        </div>
      </div>
      <fieldset class="metric-picker">
        <legend>Metrics</legend>
        ${known.length ? known.map((metric) => html`<label class="check" key=${metric}><input type="checkbox" checked=${draft.metrics.includes(metric)} onChange=${() => toggle(metric)} /> ${metric}</label>`) : html`<span class="muted">This device lists no metrics; add one by name.</span>`}
      </fieldset>
      <div class="toolbar">
        <div class="field field-inline">
          <label for="explore-extra">Other metric</label>
          <input id="explore-extra" value=${extra} placeholder="metric name" onInput=${(e: Event) => setExtra((e.target as HTMLInputElement).value)}
            onKeyDown=${(e: KeyboardEvent) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addMetric();
              }
            }} />
          <button type="button" class="button button-small" onClick=${addMetric}>Add</button>
        </div>
        <button type="submit" class="button button-primary" disabled=${!draft.sourceId || !draft.metrics.length || draft.to <= draft.from}>Show</button>
        ${history.length ? html`<button type="button" class="button" onClick=${back}>Zoom out</button>` : null}
      </div>
    </form>
    <p class="muted small" aria-live="polite">${view.sourceId && view.metrics.length ? `${dateTime(view.from * 1000)} → ${dateTime(view.to * 1000)}${series?.[0]?.bucket ? ` · ${view.agg} per ${series[0].bucket}` : ' · raw points'}` : 'Choose a device and metrics, then Show.'}</p>
    <${ErrorNotice} error=${error} />
    <div class="charts" ref=${charts} aria-busy=${loading}>
      ${loading && !series ? html`<${Loading} what="Loading" />` : null}
      ${series?.map(
        (
          s,
          i,
        ) => html`<${HistoryChart} key=${s.metric} series=${s} index=${i} range=${[view.from, view.to]} onZoom=${zoom} syncKey="explorer"
        thresholds=${thresholdsFor(rules, view.sourceId, s.metric)} />`,
      )}
    </div>
  </section>`;
}
