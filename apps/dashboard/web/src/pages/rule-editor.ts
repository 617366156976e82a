import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../lib/api.js';
import { useApp, useScope } from '../lib/context.js';
import { html } from '../lib/html.js';
import {
  type AlertConditionType,
  type RuleInput,
  RULE_LIMITS,
  type RuleView,
  type Severity,
  SEVERITY_LEVELS,
  type Source,
  type TagMatch,
  type WebhookInput,
} from '../lib/types.js';
import { Notice } from '../lib/ui.js';
import { DryRun } from './dry-run.js';

const CONDITIONS: Array<{ type: AlertConditionType; label: string }> = [
  { type: 'above', label: 'Above a threshold' },
  { type: 'below', label: 'Below a threshold' },
  { type: 'outside', label: 'Outside a range' },
  { type: 'inside', label: 'Inside a range' },
  { type: 'no_data', label: 'No data for some seconds' },
  { type: 'offline', label: 'Source offline for some seconds' },
];

/** The form as typed: text until it is checked and turned into a RuleInput. */
interface Draft {
  name: string;
  enabled: boolean;
  sourceId: string;
  tags: string;
  metric: string;
  type: AlertConditionType;
  threshold: string;
  low: string;
  high: string;
  seconds: string;
  forSeconds: string;
  severity: Severity;
  webhooks: string;
}

type FieldName = keyof Draft;
type Checked = { ok: true; rule: RuleInput } | { ok: false; field: FieldName; problem: string };

function draftOf(rule: RuleView | undefined): Draft {
  const condition = rule?.condition;
  return {
    name: rule?.name ?? '',
    enabled: rule?.enabled ?? true,
    sourceId: rule?.source_id ?? '',
    tags: Object.entries(rule?.tags ?? {})
      .map(([key, value]) => `${key}=${String(value)}`)
      .join('\n'),
    metric: rule?.metric ?? '',
    type: condition?.type ?? 'above',
    threshold: condition && 'threshold' in condition ? String(condition.threshold) : '',
    low: condition && 'low' in condition ? String(condition.low) : '',
    high: condition && 'high' in condition ? String(condition.high) : '',
    seconds: condition && 'seconds' in condition ? String(condition.seconds) : '60',
    forSeconds: String(rule?.for_seconds ?? 0),
    severity: rule?.severity ?? 'warning',
    webhooks: (rule?.webhooks ?? []).map((webhook) => webhook.url).join('\n'),
  };
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

/** NUL, other control characters and lone surrogates: the API refuses them in names, metrics, tags and URLs. */
const UNPRINTABLE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function wholeSeconds(text: string, min: number): number | undefined {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(value) && value >= min && value <= RULE_LIMITS.maxSeconds ? value : undefined;
}

function finite(text: string): number | undefined {
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

/**
 * Checks the form the way the API will (wire/alerts.ts and the rule semantics), so most mistakes
 * are named at the field before anything is sent; the server still has the last word.
 */
export function checkDraft(draft: Draft, original: RuleView | undefined): Checked {
  const fail = (field: FieldName, problem: string): Checked => ({ ok: false, field, problem });
  const name = draft.name.trim();
  if (!name) return fail('name', 'Give the rule a name.');
  if (name.length > RULE_LIMITS.maxNameLength || UNPRINTABLE.test(name))
    return fail('name', `The name must be at most ${RULE_LIMITS.maxNameLength} printable characters.`);

  const offline = draft.type === 'offline';
  const metric = draft.metric.trim();
  if (!offline && !metric) return fail('metric', 'Name the metric the rule watches.');
  if (metric.length > RULE_LIMITS.maxMetricLength || UNPRINTABLE.test(metric))
    return fail('metric', `The metric must be at most ${RULE_LIMITS.maxMetricLength} printable characters.`);

  // Tags typed as `key=value`; a value left as it was keeps its type (a number stays a number).
  const tags: TagMatch = {};
  const tagLines = offline ? [] : lines(draft.tags);
  if (tagLines.length > RULE_LIMITS.maxTags) return fail('tags', `At most ${RULE_LIMITS.maxTags} tags.`);
  for (const line of tagLines) {
    const at = line.indexOf('=');
    const key = at > 0 ? line.slice(0, at).trim() : '';
    const text = at > 0 ? line.slice(at + 1).trim() : '';
    if (!key) return fail('tags', `"${line}" is not key=value.`);
    if (key.length > RULE_LIMITS.maxTagKeyLength || text.length > RULE_LIMITS.maxTagValueLength || UNPRINTABLE.test(line))
      return fail('tags', `The tag "${key.slice(0, 40)}" is too long or holds characters that cannot be sent.`);
    const before = original?.tags?.[key];
    tags[key] = before !== undefined && String(before) === text ? before : text;
  }

  let condition: RuleInput['condition'];
  if (draft.type === 'above' || draft.type === 'below') {
    const threshold = finite(draft.threshold);
    if (threshold === undefined) return fail('threshold', 'The threshold must be a number.');
    condition = { type: draft.type, threshold };
  } else if (draft.type === 'outside' || draft.type === 'inside') {
    const low = finite(draft.low);
    const high = finite(draft.high);
    if (low === undefined) return fail('low', 'The low end must be a number.');
    if (high === undefined) return fail('high', 'The high end must be a number.');
    if (low > high) return fail('high', 'The high end must not be below the low end.');
    condition = { type: draft.type, low, high };
  } else {
    const seconds = wholeSeconds(draft.seconds, 1);
    if (seconds === undefined) return fail('seconds', `Seconds must be a whole number from 1 to ${RULE_LIMITS.maxSeconds}.`);
    condition = { type: draft.type, seconds };
  }

  const forSeconds = wholeSeconds(draft.forSeconds, 0);
  if (forSeconds === undefined)
    return fail('forSeconds', `The duration must be a whole number of seconds from 0 to ${RULE_LIMITS.maxSeconds}.`);

  // Webhooks by URL: one already on the rule keeps its id (and so its secret); others are new.
  const webhooks: WebhookInput[] = [];
  const urls = lines(draft.webhooks);
  if (urls.length > RULE_LIMITS.maxWebhooks) return fail('webhooks', `At most ${RULE_LIMITS.maxWebhooks} webhooks.`);
  for (const url of urls) {
    if (!/^https?:\/\/\S+$/.test(url) || url.length > RULE_LIMITS.maxUrlLength || UNPRINTABLE.test(url))
      return fail('webhooks', `"${url.slice(0, 80)}" is not an http:// or https:// URL.`);
    const kept = original?.webhooks.find((webhook) => webhook.url === url && !webhooks.some((w) => w.id === webhook.id));
    webhooks.push(kept ? { id: kept.id, url } : { url });
  }

  return {
    ok: true,
    rule: {
      name,
      enabled: draft.enabled,
      source_id: draft.sourceId || null,
      tags: offline || !Object.keys(tags).length ? null : tags,
      metric: offline ? null : metric,
      condition,
      for_seconds: forSeconds,
      severity: draft.severity,
      webhooks,
    },
  };
}

/** `forSeconds` → `rule-for-seconds`. */
const fieldId = (name: FieldName) => `rule-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

interface EditorProps {
  /** The rule being changed; none for a new rule. */
  rule?: RuleView;
  sources: Source[];
  onSaved: (rule: RuleView) => void;
  onCancel: () => void;
}

export function RuleEditor({ rule, sources, onSaved, onCancel }: EditorProps) {
  const { api } = useApp();
  const isAdmin = useScope('admin');
  const [draft, setDraft] = useState<Draft>(() => draftOf(rule));
  const [problem, setProblem] = useState<{ field: FieldName; text: string }>();
  const [saveError, setSaveError] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => (form.current?.querySelector('#rule-name') as HTMLInputElement | null)?.focus(), []);

  const set =
    <K extends FieldName>(field: K) =>
    (event: Event) => {
      const target = event.target as HTMLInputElement;
      const value = (target.type === 'checkbox' ? target.checked : target.value) as Draft[K];
      setDraft((current) => ({ ...current, [field]: value }));
      if (problem?.field === field) setProblem(undefined);
    };

  /** The rule as the form describes it, or the first problem shown at its field. */
  const checked = (): RuleInput | undefined => {
    const result = checkDraft(draft, rule);
    if (result.ok) return result.rule;
    setProblem({ field: result.field, text: result.problem });
    (form.current?.querySelector(`#${fieldId(result.field)}`) as HTMLElement | null)?.focus();
    return undefined;
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setSaveError('');
    const input = checked();
    if (!input) return;
    setBusy(true);
    try {
      onSaved(
        rule
          ? await api.patch<RuleView>(`/api/rules/${encodeURIComponent(rule.id)}`, input)
          : await api.post<RuleView>('/api/rules', input),
      );
    } catch (failure) {
      setSaveError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  const field = (name: FieldName, help?: string) => ({
    id: fieldId(name),
    'aria-invalid': problem?.field === name ? 'true' : undefined,
    'aria-describedby': [problem?.field === name ? 'rule-problem' : '', help ?? ''].filter(Boolean).join(' ') || undefined,
  });
  const problemAt = (name: FieldName) =>
    problem?.field === name ? html`<p class="field-error" id="rule-problem">${problem.text}</p>` : null;

  const offline = draft.type === 'offline';
  const known = new Set(sources.map((s) => s.source_id));
  const title = rule ? `Edit rule "${rule.name}"` : 'New rule';

  return html`<form class="card panel rule-editor" ref=${form} onSubmit=${save} aria-labelledby="rule-editor-title" noValidate>
    <h2 id="rule-editor-title">${title}</h2>
    <div class="form-grid">
      <div class="field">
        <label for="rule-name">Name</label>
        <input ...${field('name')} value=${draft.name} maxlength=${RULE_LIMITS.maxNameLength} placeholder="e.g. Boiler too hot" onInput=${set('name')} />
        ${problemAt('name')}
      </div>
      <div class="field">
        <label for="rule-source-id">Source</label>
        <select ...${field('sourceId')} value=${draft.sourceId} onChange=${set('sourceId')}>
          <option value="">Every source</option>
          ${sources.map((s) => html`<option value=${s.source_id}>${s.name && s.name !== s.source_id ? `${s.name} (${s.source_id})` : s.source_id}</option>`)}
          ${draft.sourceId && !known.has(draft.sourceId) ? html`<option value=${draft.sourceId}>${draft.sourceId}</option>` : null}
        </select>
      </div>
      <div class="field">
        <label for="rule-metric">Metric</label>
        <input ...${field('metric')} value=${offline ? '' : draft.metric} disabled=${offline} placeholder=${offline ? 'not used by offline rules' : 'e.g. temperature'}
          maxlength=${RULE_LIMITS.maxMetricLength} onInput=${set('metric')} />
        ${problemAt('metric')}
      </div>
      <div class="field">
        <label for="rule-type">Condition</label>
        <select ...${field('type')} value=${draft.type} onChange=${set('type')}>
          ${CONDITIONS.map((c) => html`<option value=${c.type}>${c.label}</option>`)}
        </select>
      </div>
      ${
        draft.type === 'above' || draft.type === 'below'
          ? html`<div class="field">
            <label for="rule-threshold">Threshold</label>
            <input ...${field('threshold')} inputmode="decimal" value=${draft.threshold} onInput=${set('threshold')} />
            ${problemAt('threshold')}
          </div>`
          : draft.type === 'outside' || draft.type === 'inside'
            ? html`<div class="field">
                <label for="rule-low">Low</label>
                <input ...${field('low')} inputmode="decimal" value=${draft.low} onInput=${set('low')} />
                ${problemAt('low')}
              </div>
              <div class="field">
                <label for="rule-high">High</label>
                <input ...${field('high')} inputmode="decimal" value=${draft.high} onInput=${set('high')} />
                ${problemAt('high')}
              </div>`
            : html`<div class="field">
                <label for="rule-seconds">Seconds</label>
                <input ...${field('seconds')} inputmode="numeric" value=${draft.seconds} onInput=${set('seconds')} />
                ${problemAt('seconds')}
              </div>`
      }
      <div class="field">
        <label for="rule-for-seconds">For (seconds)</label>
        <input ...${field('forSeconds', 'rule-for-help')} inputmode="numeric" value=${draft.forSeconds} onInput=${set('forSeconds')} />
        <p class="help" id="rule-for-help">How long the condition must hold before the rule fires; 0 fires at once.</p>
        ${problemAt('forSeconds')}
      </div>
      <div class="field">
        <label for="rule-severity">Severity</label>
        <select ...${field('severity')} value=${draft.severity} onChange=${set('severity')}>
          ${SEVERITY_LEVELS.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </div>
    </div>
    <div class="form-grid">
      <div class="field">
        <label for="rule-tags">Tags to match</label>
        <textarea ...${field('tags')} rows="3" value=${offline ? '' : draft.tags} disabled=${offline} placeholder="one key=value per line, e.g. room=lab" onInput=${set('tags')}></textarea>
        <p class="help">${offline ? 'Offline rules watch sources, not tags.' : 'Only series whose points carry every one of these tags; empty: every series.'}</p>
        ${problemAt('tags')}
      </div>
      <div class="field">
        <label for="rule-webhooks">Webhook URLs</label>
        <textarea ...${field('webhooks')} rows="3" value=${draft.webhooks} placeholder="one https:// URL per line" onInput=${set('webhooks')}></textarea>
        <p class="help">Each gets a signing secret, shown once when it is added.</p>
        ${problemAt('webhooks')}
      </div>
    </div>
    <label class="check"><input type="checkbox" id="rule-enabled" checked=${draft.enabled} onChange=${set('enabled')} /> Enabled</label>
    ${saveError ? html`<${Notice} kind="error">${saveError}<//>` : null}
    <div class="toolbar editor-actions">
      <button type="submit" class="button button-primary" disabled=${busy || !isAdmin} aria-describedby="rule-save-why">${busy ? 'Saving…' : rule ? 'Save changes' : 'Create rule'}</button>
      <button type="button" class="button" onClick=${onCancel}>Cancel</button>
      <span class="help" id="rule-save-why">${isAdmin ? '' : 'Saving rules needs an API key with the admin scope; the dry run needs read.'}</span>
    </div>
    <${DryRun} check=${checked} />
  </form>`;
}
