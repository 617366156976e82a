import { useState } from 'preact/hooks';
import { useAlerts } from '../lib/alerts.js';
import { errorText } from '../lib/api.js';
import { useApp, useScope } from '../lib/context.js';
import { dateTime } from '../lib/format.js';
import { html } from '../lib/html.js';
import type { RuleView } from '../lib/types.js';

/** A datetime-local value (the browser's zone) for a time in ms, and back to ISO 8601. */
const toLocalInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
const fromLocalInput = (value: string) => {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

export function isSilenced(rule: RuleView, now = Date.now()): boolean {
  return rule.silenced_until !== null && Date.parse(rule.silenced_until) > now;
}

/**
 * Silences a rule until a time (PATCH /api/rules/{id} { silenced_until }): it keeps its state
 * and records alerts, but sends no webhook and no alert frame until then. Or lifts the silence.
 */
export function SilenceControl({ rule }: { rule: RuleView }) {
  const { api } = useApp();
  const store = useAlerts();
  const isAdmin = useScope('admin');
  const [open, setOpen] = useState(false);
  const [until, setUntil] = useState(() => toLocalInput(Date.now() + 3_600_000));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const change = async (silencedUntil: string | null) => {
    setBusy(true);
    setError('');
    try {
      store.putRule(await api.patch<RuleView>(`/api/rules/${encodeURIComponent(rule.id)}`, { silenced_until: silencedUntil }));
      setOpen(false);
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const ms = fromLocalInput(until);
    if (ms === undefined || ms <= Date.now()) return setError('Choose a time in the future.');
    void change(new Date(ms).toISOString());
  };

  if (isSilenced(rule))
    return html`<span class="silence" data-silenced=${rule.id}>
      <span class="pill pill-silenced" title=${`Silenced until ${dateTime(rule.silenced_until)}`}>silenced until ${dateTime(rule.silenced_until)}</span>
      <button type="button" class="button button-small" disabled=${!isAdmin || busy} onClick=${() => change(null)} aria-label=${`Unsilence ${rule.name}`}>Unsilence</button>
      ${error ? html`<span class="field-error" role="alert">${error}</span>` : null}
    </span>`;

  if (!open)
    return html`<button type="button" class="button button-small" disabled=${!isAdmin} onClick=${() => setOpen(true)} aria-label=${`Silence ${rule.name}`}>Silence…</button>`;

  return html`<form class="silence silence-form" onSubmit=${submit}>
    <label class="field-inline">Silence until
      <input type="datetime-local" value=${until} onInput=${(e: Event) => setUntil((e.target as HTMLInputElement).value)} />
    </label>
    <button type="submit" class="button button-small button-primary" disabled=${busy}>Silence</button>
    <button type="button" class="button button-small button-quiet" onClick=${() => setOpen(false)}>Cancel</button>
    ${error ? html`<span class="field-error" role="alert">${error}</span>` : null}
  </form>`;
}
