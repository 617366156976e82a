import { useState } from 'preact/hooks';
import { useApp, useFrames, useRealtimeState, useScope, useTitle } from '../lib/context.js';
import { relativeTime } from '../lib/format.js';
import { html } from '../lib/html.js';
import { devicePath } from '../lib/router.js';
import type { Source } from '../lib/types.js';
import { EmptyState, ErrorNotice, Loading, StatusPill, useLoad, useTicker } from '../lib/ui.js';
import { PairPanel } from './pair.js';

export function FleetPage() {
  useTitle('Fleet');
  const { api } = useApp();
  const rt = useRealtimeState();
  const canPair = useScope('admin');
  const [pairing, setPairing] = useState(false);
  const now = useTicker(15_000);
  const sources = useLoad(() => api.get<{ sources: Source[] }>('/api/sources').then((answer) => answer.sources), []);

  // A device we have not listed yet came online (just paired, or first telemetry): list it.
  useFrames((frame) => {
    if (frame.type === 'source_status' && frame.status === 'online' && !sources.data?.some((s) => s.source_id === frame.source_id))
      sources.reload();
  });

  // Live presence wins over the list's snapshot once the socket is up.
  const isOnline = (source: Source) => (rt.state === 'live' ? rt.isOnline(source.source_id) : source.online);
  const list = [...(sources.data ?? [])].sort((a, b) => Number(isOnline(b)) - Number(isOnline(a)) || a.name.localeCompare(b.name));
  const onlineCount = list.filter(isOnline).length;

  return html`<section class="page">
    <div class="page-head">
      <div>
        <h1 tabindex="-1">Fleet</h1>
        <p class="muted">${sources.data ? `${onlineCount} of ${list.length} device${list.length === 1 ? '' : 's'} online` : 'Your devices and data sources'}</p>
      </div>
      <div class="actions">
        <button type="button" class="button button-primary" disabled=${!canPair || pairing} aria-describedby=${canPair ? undefined : 'pair-why'} onClick=${() => setPairing(true)}>
          Pair device
        </button>
        ${canPair ? null : html`<p class="help" id="pair-why">Pairing needs an API key with the admin scope.</p>`}
      </div>
    </div>
    ${pairing ? html`<${PairPanel} onClose=${() => setPairing(false)} onPaired=${() => sources.reload()} sources=${sources.data ?? []} />` : null}
    <${ErrorNotice} error=${sources.error} />
    ${sources.loading && !sources.data ? html`<${Loading} what="Loading devices" />` : null}
    ${
      sources.data && list.length === 0
        ? html`<${EmptyState} title="No devices yet">
          <p>Pair a Raspberry Pi or any Linux or macOS machine: choose <strong>Pair device</strong> and run the command it shows on the device.</p>
          <p>Scripts can also send points over HTTP with an API key (<code>POST /api/ingest</code>); their source appears here with its first point.</p>
        <//>`
        : null
    }
    <ul class="grid" aria-label="Devices">
      ${list.map(
        (
          source,
        ) => html`<li key=${source.source_id} class="card device-card" data-source=${source.source_id} data-online=${String(isOnline(source))}>
        <div class="device-card-head">
          <h2><a href=${devicePath(source.source_id)}>${source.name || source.source_id}</a></h2>
          <${StatusPill} online=${isOnline(source)} />
        </div>
        <dl class="facts">
          <div><dt>ID</dt><dd><code>${source.source_id}</code></dd></div>
          <div><dt>Platform</dt><dd>${source.platform || '—'}</dd></div>
          <div><dt>Sensors</dt><dd>${source.sensors.length ? source.sensors.map((s) => s.name).join(', ') : 'none reported'}</dd></div>
          <div><dt>Last seen</dt><dd>${isOnline(source) ? 'now' : relativeTime(source.last_seen, now)}</dd></div>
        </dl>
      </li>`,
      )}
    </ul>
  </section>`;
}
