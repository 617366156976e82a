import { useEffect, useRef, useState } from 'preact/hooks';
import { conditionText, useAlerts, watchesText } from '../lib/alerts.js';
import { errorText } from '../lib/api.js';
import { useApp, useScope, useTitle } from '../lib/context.js';
import { html } from '../lib/html.js';
import type { RuleView, Source, WebhookView } from '../lib/types.js';
import { CopyButton, EmptyState, Loading, Notice, useLoad, useTicker } from '../lib/ui.js';
import { AlertHistory, FiringAlerts, SeverityPill } from './alert-lists.js';
import { RuleEditor } from './rule-editor.js';
import { isSilenced, SilenceControl } from './silence.js';

type Editing = { rule?: RuleView } | undefined;

/** Alert rules (with an editor and its dry run), the alerts firing now, and their history. */
export function AlertsPage() {
  useTitle('Alerts');
  const { api } = useApp();
  const store = useAlerts();
  const canRead = useScope('read');
  const isAdmin = useScope('admin');
  const sources = useLoad(() => api.get<{ sources: Source[] }>('/api/sources').then((answer) => answer.sources), []);
  const rules = useLoad(() => store.reloadRules(), []);
  const [editing, setEditing] = useState<Editing>();
  const [secrets, setSecrets] = useState<{ rule: string; webhooks: WebhookView[] }>();
  const secretsBox = useRef<HTMLDivElement>(null);

  useEffect(() => secretsBox.current?.focus(), [secrets]);

  if (!canRead) {
    return html`<section class="page"><h1 tabindex="-1">Alerts</h1>
      <${Notice} kind="info">Alerts need an API key with the read scope.<//></section>`;
  }

  const saved = (rule: RuleView) => {
    store.putRule(rule);
    setEditing(undefined);
    // Secrets come only in the answer that created the webhook: show them now or never.
    const fresh = rule.webhooks.filter((webhook) => webhook.secret);
    setSecrets(fresh.length ? { rule: rule.name, webhooks: fresh } : undefined);
  };

  const list = store.rules;
  return html`<section class="page">
    <div class="page-head">
      <div><h1 tabindex="-1">Alerts</h1>
        <p class="muted">Rules on telemetry and presence, what is firing now, and everything that fired.</p></div>
      <div class="actions">
        <button type="button" class="button button-primary" disabled=${!isAdmin || Boolean(editing)} onClick=${() => setEditing({})} aria-describedby="new-rule-why">New rule</button>
        <span class="help" id="new-rule-why">${isAdmin ? '' : 'Creating and changing rules needs an API key with the admin scope.'}</span>
      </div>
    </div>
    ${
      secrets
        ? html`<div class="card panel created-key" ref=${secretsBox} tabindex="-1" role="region" aria-labelledby="secrets-title">
          <h2 id="secrets-title">Webhook secrets for "${secrets.rule}"</h2>
          <p>Copy them now: they are not shown again. Each webhook request carries <code>Plexus-Signature: sha256=…</code>, the HMAC-SHA256 of its body under this secret.</p>
          ${secrets.webhooks.map(
            (webhook) => html`<div class="command" key=${webhook.id}>
              <span class="command-label">${webhook.url}</span>
              <div class="command-row">
                <code class="command-text" data-webhook-secret=${webhook.secret}>${webhook.secret}</code>
                <${CopyButton} text=${webhook.secret ?? ''} label="Copy secret" />
              </div>
            </div>`,
          )}
          <button type="button" class="button button-small button-quiet" onClick=${() => setSecrets(undefined)}>I have saved them</button>
        </div>`
        : null
    }
    ${editing ? html`<${RuleEditor} key=${editing.rule?.id ?? 'new'} rule=${editing.rule} sources=${sources.data ?? []} onSaved=${saved} onCancel=${() => setEditing(undefined)} />` : null}
    <${RulesTable} rules=${list} loading=${rules.loading} error=${rules.error} editing=${editing} onEdit=${(rule: RuleView) => setEditing({ rule })} />
    <${FiringAlerts} rules=${list ?? []} />
    <${AlertHistory} />
  </section>`;
}

function RulesTable({
  rules,
  loading,
  error,
  editing,
  onEdit,
}: {
  rules: RuleView[] | undefined;
  loading: boolean;
  error: unknown;
  editing: Editing;
  onEdit: (rule: RuleView) => void;
}) {
  const { api } = useApp();
  const store = useAlerts();
  const isAdmin = useScope('admin');
  const now = useTicker(30_000);
  const [confirming, setConfirming] = useState<string>();
  const [deleteError, setDeleteError] = useState('');

  const remove = async (rule: RuleView) => {
    setDeleteError('');
    try {
      await api.delete(`/api/rules/${encodeURIComponent(rule.id)}`);
      store.dropRule(rule.id);
      setConfirming(undefined);
    } catch (failure) {
      setDeleteError(errorText(failure));
    }
  };

  return html`<section class="card panel" aria-labelledby="rules-title">
    <div class="panel-head"><h2 id="rules-title">Rules</h2><span class="muted">${rules ? `${rules.length} rule${rules.length === 1 ? '' : 's'}` : ''}</span></div>
    ${error ? html`<${Notice} kind="error">${errorText(error)}<//>` : null}
    ${deleteError ? html`<${Notice} kind="error">${deleteError}<//>` : null}
    ${loading && !rules ? html`<${Loading} what="Loading rules" />` : null}
    ${
      rules && rules.length === 0 && !error
        ? html`<${EmptyState} title="No rules yet"><p>${isAdmin ? 'Choose New rule to watch a metric or a source.' : 'A key with the admin scope can create them.'}</p><//>`
        : null
    }
    ${
      rules?.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="rules-title"><table class="table">
          <caption class="visually-hidden">Alert rules</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Watches</th><th scope="col">Condition</th><th scope="col">For</th><th scope="col">Severity</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${rules.map(
              (rule) => html`<tr key=${rule.id} data-rule-id=${rule.id} data-rule-name=${rule.name}>
              <td class="cell-wrap rule-name">${rule.name}</td>
              <td class="cell-wrap">${watchesText(rule)}</td>
              <td>${conditionText(rule.condition)}</td>
              <td>${rule.for_seconds ? `${rule.for_seconds} s` : 'at once'}</td>
              <td><${SeverityPill} severity=${rule.severity} /></td>
              <td>${rule.enabled ? (isSilenced(rule, now) ? 'silenced' : 'on') : 'disabled'}${rule.webhooks.length ? html`<span class="muted"> · ${rule.webhooks.length} webhook${rule.webhooks.length === 1 ? '' : 's'}</span>` : null}</td>
              <td class="cell-actions">
                ${
                  confirming === rule.id
                    ? html`<span class="confirm">
                      <button type="button" class="button button-small button-danger" onClick=${() => remove(rule)}>Confirm delete</button>
                      <button type="button" class="button button-small button-quiet" onClick=${() => setConfirming(undefined)}>Keep</button>
                    </span>`
                    : html`<span class="confirm">
                      <button type="button" class="button button-small" disabled=${Boolean(editing)} onClick=${() => onEdit(rule)} aria-label=${`${isAdmin ? 'Edit' : 'Open'} ${rule.name}`}>${isAdmin ? 'Edit' : 'Open'}</button>
                      <${SilenceControl} rule=${rule} />
                      <button type="button" class="button button-small" disabled=${!isAdmin} onClick=${() => setConfirming(rule.id)} aria-label=${`Delete ${rule.name}`}>Delete</button>
                    </span>`
                }
              </td>
            </tr>`,
            )}
          </tbody>
        </table></div>`
        : null
    }
  </section>`;
}
