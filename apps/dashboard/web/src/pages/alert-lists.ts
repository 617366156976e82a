import { useEffect, useState } from 'preact/hooks';
import { applyToFiring, applyToHistory, seriesText, useAlerts } from '../lib/alerts.js';
import { errorText } from '../lib/api.js';
import { useApp, useScope } from '../lib/context.js';
import { dateTime, relativeTime } from '../lib/format.js';
import { html } from '../lib/html.js';
import type { AlertList, AlertView, RuleView } from '../lib/types.js';
import { EmptyState, ErrorNotice, Loading, Notice, useLoad, useTicker } from '../lib/ui.js';
import { SilenceControl } from './silence.js';

const FIRING_PAGE = 200;
const HISTORY_PAGE = 50;

export function SeverityPill({ severity }: { severity: string }) {
  return html`<span class=${`pill pill-severity-${severity}`}>${severity}</span>`;
}

/** The org's firing alerts, kept live by `alert` frames; each can be acknowledged, its rule silenced. */
export function FiringAlerts({ rules }: { rules: RuleView[] }) {
  const { api } = useApp();
  const store = useAlerts();
  const isAdmin = useScope('admin');
  const now = useTicker(15_000);
  const first = useLoad(() => api.get<AlertList>('/api/alerts', { state: 'firing', limit: FIRING_PAGE }), []);
  const [alerts, setAlerts] = useState<AlertView[]>();
  const [ackError, setAckError] = useState('');

  useEffect(() => {
    if (!first.data) return;
    setAlerts(first.data.alerts);
    store.setFiring(first.data.firing);
  }, [first.data]);
  useEffect(() => store.onAlert((frame) => setAlerts((current) => current && applyToFiring(current, frame))), [store]);

  const acknowledge = async (alert: AlertView) => {
    setAckError('');
    try {
      const acknowledged = await api.post<AlertView>(`/api/alerts/${encodeURIComponent(alert.id)}/ack`);
      setAlerts((current) => current?.map((a) => (a.id === acknowledged.id ? acknowledged : a)));
    } catch (failure) {
      setAckError(errorText(failure));
    }
  };

  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const more = (store.firing ?? 0) - (alerts?.length ?? 0);
  return html`<section class="card panel" aria-labelledby="firing-title" data-firing-list=${alerts?.length ?? ''}>
    <div class="panel-head"><h2 id="firing-title">Firing now</h2>
      <span class="muted" aria-live="polite">${alerts ? `${store.firing ?? alerts.length} firing` : ''}</span></div>
    <${ErrorNotice} error=${first.error} />
    ${ackError ? html`<${Notice} kind="error">${ackError}<//>` : null}
    ${!alerts && first.loading ? html`<${Loading} what="Loading firing alerts" />` : null}
    ${alerts && alerts.length === 0 ? html`<${EmptyState} title="Nothing is firing"><p>Alerts appear here as soon as a rule fires.</p><//>` : null}
    ${
      alerts?.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="firing-title"><table class="table">
          <caption class="visually-hidden">Firing alerts, newest first</caption>
          <thead><tr><th scope="col">Rule</th><th scope="col">Severity</th><th scope="col">Series</th><th scope="col">Value</th><th scope="col">Firing since</th><th scope="col">Acknowledged</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${alerts.map((alert) => {
              const rule = byId.get(alert.rule_id);
              return html`<tr key=${alert.id} data-alert=${alert.id} data-rule=${alert.rule_id}>
                <td class="cell-wrap">${alert.rule_name}</td>
                <td><${SeverityPill} severity=${alert.severity} /></td>
                <td class="cell-wrap">${seriesText(alert)}</td>
                <td>${alert.value ?? '—'}</td>
                <td title=${dateTime(alert.fired_at)}>${relativeTime(alert.fired_at, now)}</td>
                <td>${alert.acknowledged_at ? html`<span title=${`by key ${alert.acknowledged_by ?? ''}`}>${relativeTime(alert.acknowledged_at, now)}</span>` : 'no'}</td>
                <td class="cell-actions">
                  <span class="confirm">
                    ${
                      alert.acknowledged_at
                        ? null
                        : html`<button type="button" class="button button-small" disabled=${!isAdmin} onClick=${() => acknowledge(alert)}
                            aria-label=${`Acknowledge ${alert.rule_name} on ${alert.source_id}`}>Acknowledge</button>`
                    }
                    ${rule ? html`<${SilenceControl} rule=${rule} />` : null}
                  </span>
                </td>
              </tr>`;
            })}
          </tbody>
        </table></div>`
        : null
    }
    ${more > 0 ? html`<p class="help">${more} more firing; the ${FIRING_PAGE} newest are listed.</p>` : null}
    ${isAdmin ? null : html`<p class="help">Acknowledging alerts and silencing rules needs an API key with the admin scope.</p>`}
  </section>`;
}

/** Every alert, newest first, a page at a time; new and changed ones follow the `alert` frames. */
export function AlertHistory() {
  const { api } = useApp();
  const store = useAlerts();
  const first = useLoad(() => api.get<AlertList>('/api/alerts', { state: 'all', limit: HISTORY_PAGE }), []);
  const [pages, setPages] = useState<{ alerts: AlertView[]; next: string | null }>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>();

  useEffect(() => {
    if (first.data) setPages({ alerts: first.data.alerts, next: first.data.next_cursor });
  }, [first.data]);
  useEffect(
    () => store.onAlert((frame) => setPages((current) => current && { ...current, alerts: applyToHistory(current.alerts, frame) })),
    [store],
  );

  const more = async () => {
    if (!pages?.next) return;
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const next = await api.get<AlertList>('/api/alerts', { state: 'all', limit: HISTORY_PAGE, cursor: pages.next });
      setPages((current) => ({
        alerts: [...(current?.alerts ?? []), ...next.alerts.filter((a) => !current?.alerts.some((b) => b.id === a.id))],
        next: next.next_cursor,
      }));
    } catch (failure) {
      setMoreError(failure);
    } finally {
      setLoadingMore(false);
    }
  };

  return html`<section class="card panel" aria-labelledby="history-title">
    <div class="panel-head"><h2 id="history-title">History</h2></div>
    <${ErrorNotice} error=${first.error} />
    ${!pages && first.loading ? html`<${Loading} what="Loading the history" />` : null}
    ${pages && pages.alerts.length === 0 ? html`<${EmptyState} title="No alerts yet"><p>Every alert a rule raises is kept here, firing or resolved.</p><//>` : null}
    ${
      pages?.alerts.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="history-title"><table class="table">
          <caption class="visually-hidden">Alerts, newest first</caption>
          <thead><tr><th scope="col">Rule</th><th scope="col">Severity</th><th scope="col">State</th><th scope="col">Series</th><th scope="col">Value</th><th scope="col">Fired</th><th scope="col">Resolved</th><th scope="col">Acknowledged</th></tr></thead>
          <tbody>
            ${pages.alerts.map(
              (alert) => html`<tr key=${alert.id} data-history=${alert.id} data-state=${alert.state}>
              <td class="cell-wrap">${alert.rule_name}</td>
              <td><${SeverityPill} severity=${alert.severity} /></td>
              <td><span class=${`pill pill-state-${alert.state}`}>${alert.state}</span></td>
              <td class="cell-wrap">${seriesText(alert)}</td>
              <td>${alert.value ?? '—'}</td>
              <td>${dateTime(alert.fired_at)}</td>
              <td>${alert.resolved_at ? dateTime(alert.resolved_at) : '—'}</td>
              <td>${alert.acknowledged_at ? dateTime(alert.acknowledged_at) : '—'}</td>
            </tr>`,
            )}
          </tbody>
        </table></div>`
        : null
    }
    <${ErrorNotice} error=${moreError} />
    ${pages?.next ? html`<button type="button" class="button" onClick=${more} disabled=${loadingMore}>${loadingMore ? 'Loading…' : 'Load more'}</button>` : null}
  </section>`;
}
