import { useState } from 'preact/hooks';
import { seriesText } from '../lib/alerts.js';
import { useApp } from '../lib/context.js';
import { dateTime } from '../lib/format.js';
import { html } from '../lib/html.js';
import type { RuleInput, RuleTestResult, Session } from '../lib/types.js';
import { EmptyState, ErrorNotice, Notice, useLoad } from '../lib/ui.js';

/** POST /api/rules/test: the rule as typed, over the last 24 hours or a recorded session. */
export function DryRun({ check }: { check: () => RuleInput | undefined }) {
  const { api } = useApp();
  const sessions = useLoad(() => api.get<{ sessions: Session[] }>('/api/sessions', { limit: 50 }).then((answer) => answer.sessions), []);
  const [over, setOver] = useState('');
  const [result, setResult] = useState<{ answer: RuleTestResult; over: string }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const run = async () => {
    const rule = check();
    if (!rule) return;
    setBusy(true);
    setError(undefined);
    const now = Date.now() / 1000;
    const session = sessions.data?.find((s) => s.session_id === over);
    try {
      const answer = await api.post<RuleTestResult>(
        '/api/rules/test',
        over ? { rule, session_id: over } : { rule, from: now - 86_400, to: now },
      );
      setResult({ answer, over: session ? `session "${session.name}"` : over ? `session ${over}` : 'the last 24 hours' });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return html`<section class="dry-run" aria-labelledby="dry-run-title">
    <h3 id="dry-run-title">Dry run</h3>
    <p class="help">What this rule, as typed, would have done over stored points. Nothing is saved or sent.</p>
    <div class="toolbar">
      <div class="field field-inline">
        <label for="dry-run-over">Over</label>
        <select id="dry-run-over" value=${over} onChange=${(e: Event) => setOver((e.target as HTMLSelectElement).value)}>
          <option value="">The last 24 hours</option>
          ${(sessions.data ?? []).map((s) => html`<option value=${s.session_id}>Session: ${s.name} (${s.source_id})</option>`)}
        </select>
      </div>
      <button type="button" class="button" onClick=${run} disabled=${busy}>${busy ? 'Running…' : 'Dry run'}</button>
    </div>
    <${ErrorNotice} error=${error} />
    ${result ? html`<${DryRunResult} result=${result.answer} over=${result.over} />` : null}
  </section>`;
}

function DryRunResult({ result, over }: { result: RuleTestResult; over: string }) {
  const summary = `${result.points_evaluated.toLocaleString()} points in ${result.series} series over ${over}: ${result.transitions.length} transition${result.transitions.length === 1 ? '' : 's'}.`;
  return html`<div class="dry-run-result" data-transitions=${result.transitions.length}>
    <p role="status">${summary}</p>
    ${result.truncated ? html`<${Notice} kind="warning">The range held more points than a dry run reads: these transitions cover the first ones. Choose a shorter range or a session.<//>` : null}
    ${
      result.transitions.length === 0
        ? html`<${EmptyState} title="No transitions"><p>The rule would not have changed state over ${over}.</p><//>`
        : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="dry-run-title"><table class="table">
          <caption class="visually-hidden">Transitions the rule would have made</caption>
          <thead><tr><th scope="col">At</th><th scope="col">Series</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Value</th></tr></thead>
          <tbody>
            ${result.transitions.map(
              (t, i) => html`<tr key=${i} data-transition=${`${t.from}-${t.to}`}>
              <td>${dateTime(t.at)}</td>
              <td>${seriesText(t.series)}</td>
              <td>${t.from}</td>
              <td><span class=${`pill pill-state-${t.to}`}>${t.to}</span></td>
              <td>${t.value ?? '—'}</td>
            </tr>`,
            )}
          </tbody>
        </table></div>`
    }
  </div>`;
}
