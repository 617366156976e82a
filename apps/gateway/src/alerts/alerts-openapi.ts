import { ALERT_LIST_STATES, AlertCondition, RuleInput, RulePatch, RuleTestInput, SEVERITIES, TagMatch } from '#common';

/*
 * What the OpenAPI document says about /api/rules and /api/alerts. The bodies are the wire's
 * TypeBox schemas themselves (they are JSON Schemas, and the validators compile the same objects);
 * the answers are written here after the views of wire/alerts.ts.
 */

type Schema = Record<string, unknown>;

const asSchema = (schema: unknown) => schema as Schema;

export const RULE_INPUT_SCHEMA = asSchema(RuleInput);
export const RULE_PATCH_SCHEMA = asSchema(RulePatch);
export const RULE_TEST_SCHEMA = asSchema(RuleTestInput);

const nullableString = { type: ['string', 'null'] };
const time = { type: 'string', format: 'date-time' };
const nullableTime = { type: ['string', 'null'], format: 'date-time' };

export const RULE_VIEW_SCHEMA: Schema = {
  type: 'object',
  required: ['id', 'org_id', 'name', 'enabled', 'source_id', 'tags', 'metric', 'condition', 'for_seconds', 'severity', 'webhooks'],
  properties: {
    id: { type: 'string', example: 'rule_4fQm2Xc9LbN0pRt7YwZa' },
    org_id: { type: 'string' },
    name: { type: 'string' },
    enabled: { type: 'boolean' },
    source_id: { ...nullableString, description: 'null: every source of the org (narrowed by tags)' },
    tags: { anyOf: [{ type: 'null' }, asSchema(TagMatch)] },
    metric: nullableString,
    condition: asSchema(AlertCondition),
    for_seconds: { type: 'integer' },
    severity: { enum: [...SEVERITIES] },
    webhooks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'url'],
        properties: {
          id: { type: 'string', example: 'whk_8sKd02LmQpXv7RtYz1Ab' },
          url: { type: 'string' },
          secret: {
            type: 'string',
            description: 'Only in the answer that created the webhook: the HMAC-SHA256 key of its Plexus-Signature header',
          },
        },
      },
    },
    silenced_until: nullableTime,
    created_at: time,
    updated_at: time,
  },
};

export const RULE_LIST_SCHEMA: Schema = {
  type: 'object',
  required: ['rules'],
  properties: { rules: { type: 'array', items: RULE_VIEW_SCHEMA } },
};

export const ALERT_VIEW_SCHEMA: Schema = {
  type: 'object',
  required: ['id', 'org_id', 'rule_id', 'rule_name', 'source_id', 'severity', 'state', 'fired_at'],
  properties: {
    id: { type: 'string', example: 'alr_Qw3Er5Ty7Ui9Op1As3Df' },
    org_id: { type: 'string' },
    rule_id: { type: 'string' },
    rule_name: { type: 'string' },
    source_id: { type: 'string' },
    metric: nullableString,
    tags: { type: ['object', 'null'] },
    severity: { enum: [...SEVERITIES] },
    state: { enum: ['firing', 'resolved'] },
    value: { type: ['number', 'null'], description: 'The value that crossed the line; null for no_data and offline' },
    fired_at: time,
    resolved_at: nullableTime,
    acknowledged_at: nullableTime,
    acknowledged_by: { ...nullableString, description: 'The id of the API key that acknowledged it' },
  },
};

export const ALERT_LIST_SCHEMA: Schema = {
  type: 'object',
  required: ['alerts', 'firing', 'next_cursor'],
  properties: {
    alerts: { type: 'array', items: ALERT_VIEW_SCHEMA },
    firing: { type: 'integer', description: 'Firing alerts of the org, whatever the filter' },
    next_cursor: { ...nullableString, description: 'null on the last page' },
  },
};

const SERIES_SCHEMA: Schema = {
  type: 'object',
  properties: { source_id: { type: 'string' }, metric: nullableString, tags: { type: ['object', 'null'] } },
};

export const RULE_TEST_RESULT_SCHEMA: Schema = {
  type: 'object',
  required: ['transitions', 'points_evaluated', 'series', 'truncated'],
  properties: {
    transitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          at: time,
          series: SERIES_SCHEMA,
          from: { enum: ['ok', 'pending', 'firing'] },
          to: { enum: ['ok', 'pending', 'firing'] },
          value: { type: ['number', 'null'] },
        },
      },
    },
    points_evaluated: { type: 'integer' },
    series: { type: 'integer' },
    truncated: { type: 'boolean', description: 'The range held more points than a dry run reads' },
  },
};

export const ALERT_STATES_QUERY = { enum: [...ALERT_LIST_STATES] };
