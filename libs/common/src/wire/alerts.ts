import Type, { type Static } from 'typebox';
import { nullable, printable, SourceId } from './fields.js';

/*
 * Alert rules and alerts as the HTTP API, the alerts app and the dashboard see them (docs/alerts.md).
 * One schema: the gateway and the alerts app validate with it (validate.ts), the OpenAPI document
 * shows it, the dashboard compiles against its types.
 */

export const ALERT_LIMITS = {
  maxNameLength: 256,
  maxMetricLength: 256,
  maxTags: 32,
  maxTagKeyLength: 128,
  maxTagValueLength: 256,
  maxWebhooks: 8,
  maxUrlLength: 2048,
  /** no_data / offline seconds and for_seconds: at most a week. */
  maxSeconds: 7 * 24 * 3600,
  maxRulesPerOrg: 10_000,
} as const;

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** An ISO 8601 date-time with a zone (Z or ±hh:mm). */
export const ISO_TIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})$';

const Finite = Type.Number({ minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE, refusal: 'must be a finite number' });
const Seconds = Type.Integer({
  minimum: 1,
  maximum: ALERT_LIMITS.maxSeconds,
  refusal: `must be a whole number of seconds from 1 to ${ALERT_LIMITS.maxSeconds}`,
});

/** The condition a rule watches for. Thresholds on numbers; no_data per series; offline per source. */
export const AlertCondition = Type.Union(
  [
    Type.Object({ type: Type.Enum(['above', 'below']), threshold: Finite }, { additionalProperties: false }),
    Type.Object({ type: Type.Enum(['outside', 'inside']), low: Finite, high: Finite }, { additionalProperties: false }),
    Type.Object({ type: Type.Enum(['no_data', 'offline']), seconds: Seconds }, { additionalProperties: false }),
  ],
  { refusal: 'must be {type: above|below, threshold}, {type: outside|inside, low, high} or {type: no_data|offline, seconds}' },
);
export type AlertCondition = Static<typeof AlertCondition>;
export type AlertConditionType = AlertCondition['type'];

/** Tags a series must carry (every key with exactly this value) for a rule to watch it. */
const TAG_KEY_PATTERN = '^[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]+$';
export const TagMatch = Type.Record(
  Type.String({ pattern: TAG_KEY_PATTERN }),
  Type.Union(
    [Type.String({ maxLength: ALERT_LIMITS.maxTagValueLength, pattern: '^[^\\u0000\\uD800-\\uDFFF]*$' }), Type.Number(), Type.Boolean()],
    { refusal: `must be a string of at most ${ALERT_LIMITS.maxTagValueLength} characters without NUL, a number or a boolean` },
  ),
  {
    maxProperties: ALERT_LIMITS.maxTags,
    // A record compiles to patternProperties alone: every key is checked here, so none escapes with its value unchecked.
    propertyNames: { minLength: 1, maxLength: ALERT_LIMITS.maxTagKeyLength, pattern: TAG_KEY_PATTERN },
    additionalProperties: false,
    refusal: `must be an object of at most ${ALERT_LIMITS.maxTags} tags (keys of 1 to ${ALERT_LIMITS.maxTagKeyLength} printable characters) with string, number or boolean values`,
  },
);
export type TagMatch = Static<typeof TagMatch>;

export const WebhookUrl = Type.String({
  maxLength: ALERT_LIMITS.maxUrlLength,
  pattern: '^https?://[^\\u0000-\\u0020\\u007F\\uD800-\\uDFFF]+$',
  refusal: `must be an http:// or https:// URL of at most ${ALERT_LIMITS.maxUrlLength} characters`,
});

/** A webhook as given: a new one by url; an existing one (keeping its secret) by id. */
export const WebhookInput = Type.Object(
  { id: Type.Optional(Type.String({ maxLength: 64, refusal: "must be the id of one of the rule's webhooks" })), url: WebhookUrl },
  { additionalProperties: false },
);
export type WebhookInput = Static<typeof WebhookInput>;

const RuleFields = {
  name: printable(ALERT_LIMITS.maxNameLength),
  enabled: Type.Optional(Type.Boolean({ refusal: 'must be true or false' })),
  /** One source; null or absent: every source of the org (narrowed by `tags`). */
  source_id: Type.Optional(nullable(SourceId)),
  tags: Type.Optional(nullable(TagMatch)),
  /** Required by every condition but offline. */
  metric: Type.Optional(nullable(printable(ALERT_LIMITS.maxMetricLength))),
  condition: AlertCondition,
  /** How long the condition must hold before the rule fires; 0 fires at once. */
  for_seconds: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: ALERT_LIMITS.maxSeconds,
      refusal: `must be a whole number of seconds from 0 to ${ALERT_LIMITS.maxSeconds}`,
    }),
  ),
  severity: Type.Optional(Type.Enum([...SEVERITIES], { refusal: 'must be info, warning or critical' })),
  webhooks: Type.Optional(
    Type.Array(WebhookInput, {
      maxItems: ALERT_LIMITS.maxWebhooks,
      refusal: `must be a list of at most ${ALERT_LIMITS.maxWebhooks} webhooks`,
    }),
  ),
  /** No notification (webhook or alert frame) until then; state is still kept. */
  silenced_until: Type.Optional(
    nullable(Type.String({ pattern: ISO_TIME, refusal: 'must be an ISO 8601 date-time such as 2026-12-01T18:00:00Z' })),
  ),
};

/** POST /api/rules (and the `rule` of a dry run). */
export const RuleInput = Type.Object(RuleFields, { additionalProperties: false });
export type RuleInput = Static<typeof RuleInput>;

/** PATCH /api/rules/{id}: any of the fields; `webhooks` replaces the list (kept ones by id). */
export const RulePatch = Type.Partial(Type.Object(RuleFields), { additionalProperties: false });
export type RulePatch = Static<typeof RulePatch>;

const Time = Type.Union([Type.String({ maxLength: 64 }), Type.Number()], { refusal: 'must be an ISO 8601 date-time or Unix seconds' });

/** POST /api/rules/test: a rule not yet saved, over a stored time range or a recorded session. */
export const RuleTestInput = Type.Object(
  {
    rule: RuleInput,
    from: Type.Optional(Time),
    to: Type.Optional(Time),
    session_id: Type.Optional(printable(128)),
  },
  { additionalProperties: false },
);
export type RuleTestInput = Static<typeof RuleTestInput>;

export interface WebhookView {
  id: string;
  url: string;
  /** Only in the answer that created the webhook: the HMAC-SHA256 key of `Plexus-Signature`. */
  secret?: string;
}

export interface RuleView {
  id: string;
  org_id: string;
  name: string;
  enabled: boolean;
  source_id: string | null;
  tags: TagMatch | null;
  metric: string | null;
  condition: AlertCondition;
  for_seconds: number;
  severity: Severity;
  webhooks: WebhookView[];
  silenced_until: string | null;
  created_at: string;
  updated_at: string;
}

/** One series a rule watches: a source, and for metric rules the metric and the point's tags. */
export interface AlertSeries {
  source_id: string;
  metric: string | null;
  tags: Record<string, unknown> | null;
}

export type AlertStatus = 'firing' | 'resolved';

export interface AlertView extends AlertSeries {
  id: string;
  org_id: string;
  rule_id: string;
  rule_name: string;
  severity: Severity;
  state: AlertStatus;
  /** The value that crossed the line (threshold rules); null for no_data and offline. */
  value: number | null;
  fired_at: string;
  resolved_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
}

export type RuleState = 'ok' | 'pending' | 'firing';

/** A step of the state machine, as the dry run answers it. */
export interface RuleTransition {
  /** The point's time (threshold, no_data) as ISO 8601. */
  at: string;
  series: AlertSeries;
  from: RuleState;
  to: RuleState;
  value: number | null;
}

export interface RuleTestResult {
  transitions: RuleTransition[];
  points_evaluated: number;
  series: number;
  /** True when the range held more points than a dry run reads (the transitions cover the first ones). */
  truncated: boolean;
}

/** GET /api/alerts (and `SUBJECTS.alerts.list`): newest first. */
export interface ListAlertsReply {
  alerts: AlertView[];
  /** Firing alerts of the org, whatever the filter: the dashboard's top-bar count. */
  firing: number;
  next_cursor: string | null;
}

/** `alert` frame to the org's browsers: an alert fired, resolved or was acknowledged. */
export interface AlertFrame {
  type: 'alert';
  event: 'fired' | 'resolved' | 'acknowledged';
  alert: AlertView;
}
