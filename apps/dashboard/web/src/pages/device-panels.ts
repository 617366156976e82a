import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../lib/api.js';
import { useApp, useFrames, useScope } from '../lib/context.js';
import { duration } from '../lib/format.js';
import { html } from '../lib/html.js';
import { randomId } from '../lib/realtime.js';
import { sessionPath } from '../lib/router.js';
import type { Session, Source } from '../lib/types.js';
import { Notice, useTicker } from '../lib/ui.js';

/** The device's sensors, each with its sample rate and a way to change it (`configure`). */
export function SensorsPanel({ source, online }: { source: Source; online: boolean }) {
  const { rt } = useApp();
  const canControl = useScope('control');
  const [rates, setRates] = useState<Record<string, string>>({});
  const [requested, setRequested] = useState<Record<string, number>>({});
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string }>();
  const why = !canControl ? 'Changing sample rates needs an API key with the control scope.' : !online ? 'The device is offline.' : '';

  const apply = (event: Event, sensor: string, current: number | undefined) => {
    event.preventDefault();
    const rate = Number(rates[sensor] ?? current);
    if (!Number.isFinite(rate) || rate <= 0 || rate > 10_000) {
      setMessage({ kind: 'error', text: `Enter a rate between 0 and 10000 Hz for ${sensor}.` });
      return;
    }
    if (!rt.send({ type: 'configure', source_id: source.source_id, sensor, config: { sample_rate: rate } })) {
      setMessage({ kind: 'error', text: 'Not connected to the realtime server; try again in a moment.' });
      return;
    }
    setRequested((previous) => ({ ...previous, [sensor]: rate }));
    setMessage({ kind: 'success', text: `Asked the device to sample ${sensor} at ${rate} Hz.` });
  };

  return html`<section class="card panel" aria-labelledby="sensors-title">
    <div class="panel-head"><h2 id="sensors-title">Sensors</h2></div>
    ${
      source.sensors.length === 0
        ? html`<p class="muted">No sensors reported. Devices describe their sensors when they connect with <code>plexus run</code>; sources that only send over HTTP have none.</p>`
        : html`<ul class="sensor-list">
          ${source.sensors.map((sensor) => {
            const inputId = `rate-${sensor.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
            const current = requested[sensor.name] ?? sensor.sample_rate;
            return html`<li key=${sensor.name} class="sensor" data-sensor=${sensor.name}>
              <div class="sensor-name"><strong>${sensor.name}</strong>${sensor.available === false ? html` <span class="pill pill-offline">unavailable</span>` : null}
                ${sensor.description ? html`<span class="muted"> — ${sensor.description}</span>` : null}</div>
              <div class="sensor-metrics muted">${(sensor.metrics ?? []).join(', ') || 'no metrics listed'}</div>
              <form class="sensor-rate" onSubmit=${(e: Event) => apply(e, sensor.name, current)}>
                <label for=${inputId}>Sample rate (Hz)</label>
                <input id=${inputId} type="number" min="0.01" max="10000" step="any" inputmode="decimal" value=${rates[sensor.name] ?? current ?? ''}
                  onInput=${(e: Event) => setRates((previous) => ({ ...previous, [sensor.name]: (e.target as HTMLInputElement).value }))} disabled=${Boolean(why)} />
                <button type="submit" class="button button-small" disabled=${Boolean(why)} aria-label=${`Apply sample rate for ${sensor.name}`}>Apply</button>
              </form>
            </li>`;
          })}
        </ul>`
    }
    ${why && source.sensors.length ? html`<p class="help">${why}</p>` : null}
    ${message ? html`<${Notice} kind=${message.kind}>${message.text}<//>` : null}
  </section>`;
}

type Recording =
  | { phase: 'idle' }
  | { phase: 'starting'; id: string; name: string }
  | { phase: 'recording'; id: string; name: string; since: number }
  | { phase: 'stopping'; id: string; name: string; since: number };

/** Records a session on the device: `start_session` / `stop_session`, state from `session_started` / `session_stopped`. */
export function RecordingPanel({ source, online }: { source: Source; online: boolean }) {
  const { api, rt } = useApp();
  const canControl = useScope('control');
  const canWrite = useScope('write');
  const sourceId = source.source_id;
  const [name, setName] = useState('');
  const [state, setState] = useState<Recording>({ phase: 'idle' });
  const [saved, setSaved] = useState<{ id: string; name: string }>();
  const [problem, setProblem] = useState('');
  const [ending, setEnding] = useState(false);
  const now = useTicker(1000);

  // A recording already running (started here earlier, or from another browser).
  useEffect(() => {
    api.get<{ sessions: Session[] }>('/api/sessions', { source_id: sourceId, status: 'active', limit: 1 }).then(
      ({ sessions }) => {
        const active = sessions[0];
        if (active)
          setState((current) =>
            current.phase === 'idle'
              ? { phase: 'recording', id: active.session_id, name: active.name, since: Date.parse(active.started_at) }
              : current,
          );
      },
      () => undefined,
    );
  }, [sourceId]);

  useFrames((frame) => {
    if (!('source_id' in frame) || frame.source_id !== sourceId) return;
    if (frame.type === 'session_started' && typeof frame.session_id === 'string') {
      setState({ phase: 'recording', id: frame.session_id, name: String(frame.session_name ?? frame.session_id), since: Date.now() });
      setProblem('');
    } else if (frame.type === 'session_stopped' && typeof frame.session_id === 'string') {
      setState((current) => {
        if (current.phase !== 'idle' && current.id === frame.session_id) setSaved({ id: current.id, name: current.name });
        return current.phase !== 'idle' && current.id !== frame.session_id ? current : { phase: 'idle' };
      });
    } else if (frame.type === 'error' && 'code' in frame && frame.code === 'DEVICE_OFFLINE' && state.phase !== 'idle') {
      setProblem('The device is offline; the recording command did not reach it.');
      if (state.phase === 'starting') setState({ phase: 'idle' });
    }
  });

  // A device that never confirms: say so instead of waiting forever.
  useEffect(() => {
    if (state.phase !== 'starting' && state.phase !== 'stopping') return;
    const timer = setTimeout(
      () => setProblem(`The device has not confirmed for 10 s. It may be busy or running an agent without recording support.`),
      10_000,
    );
    return () => clearTimeout(timer);
  }, [state.phase]);

  const start = (event: Event) => {
    event.preventDefault();
    const sessionName = name.trim() || `Recording ${new Date().toLocaleString()}`;
    const id = `session_${Math.floor(Date.now() / 1000)}_${randomId('x').slice(2)}`;
    setProblem('');
    setSaved(undefined);
    if (
      !rt.send({ type: 'start_session', source_id: sourceId, session_id: id, session_name: sessionName, metrics: [], interval_ms: 100 })
    ) {
      setProblem('Not connected to the realtime server; try again in a moment.');
      return;
    }
    setState({ phase: 'starting', id, name: sessionName });
  };
  const stop = () => {
    if (state.phase !== 'recording') return;
    if (!rt.send({ type: 'stop_session', source_id: sourceId, session_id: state.id })) {
      setProblem('Not connected to the realtime server; try again in a moment.');
      return;
    }
    setState({ ...state, phase: 'stopping' });
  };
  // The device is away and cannot confirm a stop: end the session record itself, so it does not stay "recording" forever.
  const end = async () => {
    if (state.phase !== 'recording' && state.phase !== 'stopping') return;
    setEnding(true);
    try {
      await api.patch(`/api/sessions/${encodeURIComponent(state.id)}`, { status: 'completed' });
      setSaved({ id: state.id, name: state.name });
      setProblem('');
      setState({ phase: 'idle' });
    } catch (error) {
      setProblem(`The session could not be ended: ${errorText(error)}`);
    } finally {
      setEnding(false);
    }
  };

  const why = !canControl ? 'Recording needs an API key with the control scope.' : !online ? 'The device is offline.' : '';

  return html`<section class="card panel" aria-labelledby="record-title" data-recording=${state.phase}>
    <div class="panel-head">
      <h2 id="record-title">Recording</h2>
      ${state.phase === 'recording' || state.phase === 'stopping' ? html`<span class="pill pill-recording"><span class="dot" aria-hidden="true"></span>Recording</span>` : null}
    </div>
    ${
      state.phase === 'idle' || state.phase === 'starting'
        ? html`<form class="stack" onSubmit=${start}>
          <div class="field">
            <label for="session-name">Session name</label>
            <input id="session-name" value=${name} maxlength="200" placeholder="e.g. Motor test run 3" onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
          </div>
          <p class="help">Records every metric of this device, stored durably, until you stop it.</p>
          <div class="row">
            <button type="submit" class="button button-primary" disabled=${Boolean(why) || state.phase === 'starting'} aria-describedby="record-why">
              ${state.phase === 'starting' ? 'Starting…' : 'Start recording'}
            </button>
            <span class="help" id="record-why">${why}</span>
          </div>
        </form>`
        : html`<div class="stack">
          <p><strong data-session-name>${state.name}</strong></p>
          <p class="muted">Recording for ${duration(now - state.since)} · <a href=${sessionPath(state.id)}>open session</a></p>
          ${
            online
              ? html`<div><button type="button" class="button button-danger" onClick=${stop} disabled=${state.phase === 'stopping' || !canControl}>${state.phase === 'stopping' ? 'Stopping…' : 'Stop recording'}</button></div>`
              : html`<div class="row">
                <button type="button" class="button button-danger" onClick=${end} disabled=${ending || !canWrite} aria-describedby="end-why">
                  ${ending ? 'Ending…' : 'End session'}
                </button>
                <span class="help" id="end-why">${canWrite ? 'The device is offline: this marks the session completed with what it recorded so far.' : 'Ending a session needs an API key with the write scope.'}</span>
              </div>`
          }
        </div>`
    }
    ${problem ? html`<${Notice} kind="warning">${problem}<//>` : null}
    ${saved ? html`<${Notice} kind="success">Saved <a href=${sessionPath(saved.id)} data-saved-session=${saved.id}>${saved.name}</a>.<//>` : null}
  </section>`;
}
