import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorText } from '../lib/api.js';
import { useApp, useRealtimeState } from '../lib/context.js';
import { clock } from '../lib/format.js';
import { html } from '../lib/html.js';
import { devicePath } from '../lib/router.js';
import type { PairingCode, Source } from '../lib/types.js';
import { CommandLine, Notice, StatusPill, useTicker } from '../lib/ui.js';

type PairState = { step: 'name' } | { step: 'code'; code: PairingCode } | { step: 'expired' } | { step: 'paired'; sourceId: string };

/** Pairing: a code, the command to run on the device, and the device itself once it has used the code. */
export function PairPanel({ onClose, onPaired, sources }: { onClose: () => void; onPaired: () => void; sources: Source[] }) {
  const { api } = useApp();
  const rt = useRealtimeState();
  const [state, setState] = useState<PairState>({ step: 'name' });
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const now = useTicker(1000);
  const heading = useRef<HTMLHeadingElement>(null);
  const origin = location.origin;

  useEffect(() => heading.current?.focus(), []);

  const create = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const code = await api.post<PairingCode>('/api/sources/pair', name.trim() ? { name: name.trim() } : {});
      setState({ step: 'code', code });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  // Ask every 2 s whether the device has used the code.
  const code = state.step === 'code' ? state.code.code : undefined;
  useEffect(() => {
    if (!code) return;
    let stopped = false;
    const poll = async () => {
      try {
        const status = await api.get<{ status: string; source_id?: string }>('/api/sources/pair', { code });
        if (stopped) return;
        if (status.status === 'paired' && status.source_id) {
          setState({ step: 'paired', sourceId: status.source_id });
          onPaired();
          return;
        }
      } catch (failure) {
        if (stopped) return;
        if (failure instanceof ApiError && failure.status === 410) {
          setState({ step: 'expired' });
          return;
        }
        setError(failure);
      }
      timer = setTimeout(poll, 2000);
    };
    let timer = setTimeout(poll, 1000);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [code]);

  const paired = state.step === 'paired' ? sources.find((s) => s.source_id === state.sourceId) : undefined;

  return html`<section class="card pair" aria-labelledby="pair-title" data-pair-step=${state.step}>
    <div class="pair-head">
      <h2 id="pair-title" tabindex="-1" ref=${heading}>Pair a device</h2>
      <button type="button" class="button button-small button-quiet" onClick=${onClose}>Close</button>
    </div>
    ${
      state.step === 'name'
        ? html`<form class="inline-form" onSubmit=${create}>
          <div class="field">
            <label for="pair-name">Device name (optional)</label>
            <input id="pair-name" value=${name} maxlength="128" placeholder="e.g. Lab Pi" onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
          </div>
          <button type="submit" class="button button-primary" disabled=${busy}>${busy ? 'Creating…' : 'Get a pairing code'}</button>
        </form>`
        : null
    }
    ${
      state.step === 'code'
        ? html`<div class="pair-code">
          <p>Run one of these on the device. The code works once, for the next <strong aria-live="off">${clock(Date.parse(state.code.expires_at) - now)}</strong>.</p>
          <p class="code" aria-label="Pairing code"><span data-pairing-code=${state.code.code}>${state.code.code}</span></p>
          <${CommandLine} id="pair-setup" label="Install the agent as a service and pair (Linux)" command=${`curl -sL ${origin}/setup | bash -s -- --code ${state.code.code}`} />
          <${CommandLine} id="pair-cli" label="Or, with the plexus agent already installed" command=${`plexus pair --code ${state.code.code} --endpoint ${origin}`} />
          <p class="waiting" role="status"><span class="spinner" aria-hidden="true"></span>Waiting for the device to use the code…</p>
        </div>`
        : null
    }
    ${
      state.step === 'expired'
        ? html`<${Notice} kind="warning">This code expired before a device used it.</${Notice}>
          <button type="button" class="button button-primary" onClick=${() => setState({ step: 'name' })}>Make a new code</button>`
        : null
    }
    ${
      state.step === 'paired'
        ? html`<div class="paired" role="status">
          <p><strong>Paired.</strong> ${paired ? html`<span data-paired-source=${state.sourceId}>${paired.name}</span>` : state.sourceId}
            ${' '}<${StatusPill} online=${rt.isOnline(state.sourceId)} /></p>
          <p class="muted">${rt.isOnline(state.sourceId) ? 'It is connected and ready.' : 'Start it with plexus run (the setup script starts it as a service); it appears online here when it connects.'}</p>
          <a class="button button-primary" href=${devicePath(state.sourceId)}>Open device</a>
        </div>`
        : null
    }
    ${error ? html`<${Notice} kind="error">${errorText(error)}<//>` : null}
  </section>`;
}
