import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ALERT_LIMITS,
  type AlertEvent,
  type AlertView,
  type ListRulesPage,
  BrokerConnection,
  checkRuleInput,
  checkRulePatch,
  decodePageCursor,
  DomainError,
  encodePageCursor,
  RuleInput,
  type RulePatch,
  type RulesChangedEvent,
  type RuleView,
  SUBJECTS,
  type WebhookInput,
  type WireCheck,
  fitInBytes,
} from '#common';
import { AlertsRepository } from '../history/alerts.repository.js';
import { optionalText, refuseBadData, requestObject, requireOrg, requireText } from '../rpc-input.js';
import { ruleProblem } from './rule-problems.js';
import { newId } from '../ids.js';
import { newWebhookSalt } from '../webhooks/webhook-secret.js';
import { type RuleFields, RulesRepository, ruleView, type StoredRule, type StoredWebhook } from './rules.repository.js';
import { AlertsSecret } from '../webhooks/alerts-secret.js';

const FOREIGN_KEY_VIOLATION = '23503';

/**
 * A page of `listRules` holds at most this much JSON (and this many rules): a rule may carry
 * 40 KiB (8 webhook urls of 2 KiB, 32 tags), and NATS refuses a message over 1 MiB.
 */
const LIST_PAGE_BYTES = 256 * 1024;
const LIST_PAGE_ROWS = 500;

/** A rule id as the API hands them out; anything else names no rule (NOT_FOUND without a query). */
const RULE_ID = /^rule_[A-Za-z0-9]{1,64}$/;

/**
 * Rules of an org: create, read, change, delete (docs/api.md, "Alert rules"). Every change is
 * told to every alerts instance (`rulesChanged`) so the evaluators reload the org's rules.
 */
@Injectable()
export class RulesService {
  private readonly logger = new Logger(RulesService.name);

  constructor(
    private readonly rules: RulesRepository,
    private readonly alerts: AlertsRepository,
    private readonly secret: AlertsSecret,
    private readonly broker: BrokerConnection,
  ) {}

  async create(request: unknown): Promise<RuleView> {
    const orgId = requireOrg(request);
    const rule = checkedRule(requestObject(request).rule, checkRuleInput, 'rule');
    const unknownId = rule.webhooks?.find((webhook) => webhook.id !== undefined);
    if (unknownId) throw badRequest('webhooks', `"webhooks" names a webhook id this rule does not have: ${JSON.stringify(unknownId.id)}`);
    const created = await this.write(
      this.rules.transaction(async (manager) => {
        await this.rules.lockOrg(manager, orgId);
        if ((await this.rules.count(manager, orgId)) >= ALERT_LIMITS.maxRulesPerOrg) {
          throw new DomainError('CONFLICT', `an org has at most ${ALERT_LIMITS.maxRulesPerOrg} rules; delete one first`);
        }
        const stored = await this.rules.insert(manager, newId('rule'), orgId, fieldsOf(rule));
        const { webhooks, secrets } = await this.replaceWebhooks(manager, orgId, stored.id, [], rule.webhooks ?? []);
        return ruleView(stored, webhooks, secrets);
      }),
    );
    this.rulesChanged(orgId);
    return created;
  }

  /**
   * A page of the org's rules, oldest first: as many as fit in LIST_PAGE_BYTES of JSON (one at
   * least), so a reply stays far below NATS's payload bound whatever the rules hold; `next_cursor`
   * (null on the last page) asks for the next. The gateway pages through them all.
   */
  async list(request: unknown): Promise<ListRulesPage> {
    const orgId = requireOrg(request);
    const cursor = optionalText(request, 'cursor', 512);
    const after = cursor === undefined ? undefined : decodePageCursor(cursor, RULE_ID);
    const found = await refuseBadData(this.rules.list(orgId, LIST_PAGE_ROWS + 1, after), 'cursor');
    const rows = found.slice(0, LIST_PAGE_ROWS);
    const webhooks = await this.rules.webhooks(
      orgId,
      rows.map((row) => row.rule.id),
    );
    const views = rows.map(({ rule }) => ruleView(rule, webhooks.get(rule.id) ?? []));
    const { fitted: rules } = fitInBytes(views, LIST_PAGE_BYTES, true);
    const more = rules.length < found.length;
    const last = rows[rules.length - 1]?.position;
    return { rules, next_cursor: more && last ? encodePageCursor(last) : null };
  }

  async get(request: unknown): Promise<RuleView> {
    const orgId = requireOrg(request);
    const ruleId = requireRuleId(request);
    const rule = await this.rules.find(orgId, ruleId);
    if (!rule) throw notFound(ruleId);
    const webhooks = await this.rules.webhooks(orgId, [rule.id]);
    return ruleView(rule, webhooks.get(rule.id) ?? []);
  }

  /**
   * A patch is applied to the stored rule and the result checked whole, as a create would be:
   * switching a rule to `offline` needs `metric: null` in the same patch.
   */
  async update(request: unknown): Promise<RuleView> {
    const orgId = requireOrg(request);
    const ruleId = requireRuleId(request);
    const patch = checkedRule(requestObject(request).patch, checkRulePatch, 'patch');
    let resolved: AlertView[] = [];
    const updated = await this.write(
      this.rules.transaction(async (manager) => {
        const current = await this.rules.find(orgId, ruleId, manager, true);
        if (!current) throw notFound(ruleId);
        const merged = checkedRule(mergePatch(current, patch), checkRuleInput, 'rule');
        const stored = await this.rules.update(manager, orgId, ruleId, fieldsOf(merged));
        // A rule that now watches something else (or nothing) starts over: its states belong to
        // what it watched before, and its firing alerts end here rather than never.
        if (watchChanged(current, stored)) {
          await this.rules.clearStates(manager, ruleId);
          resolved = await this.alerts.resolveFiringOfRule(manager, orgId, ruleId);
        }
        const existing = (await this.rules.webhooks(orgId, [ruleId], manager)).get(ruleId) ?? [];
        if (patch.webhooks === undefined) return ruleView(stored, existing);
        const { webhooks, secrets } = await this.replaceWebhooks(manager, orgId, ruleId, existing, patch.webhooks);
        return ruleView(stored, webhooks, secrets);
      }),
    );
    this.rulesChanged(orgId);
    for (const alert of resolved)
      this.publish(SUBJECTS.alerts.events(orgId), { org_id: orgId, event: 'resolved', alert } satisfies AlertEvent);
    return updated;
  }

  /** Deletes the rule (its states and webhooks go with it) and resolves its firing alerts. */
  async delete(request: unknown): Promise<{ deleted: true }> {
    const orgId = requireOrg(request);
    const ruleId = requireRuleId(request);
    const resolved = await this.rules.transaction(async (manager) => {
      if (!(await this.rules.delete(manager, orgId, ruleId))) throw notFound(ruleId);
      return this.alerts.resolveFiringOfRule(manager, orgId, ruleId);
    });
    this.rulesChanged(orgId);
    for (const alert of resolved) {
      const event: AlertEvent = { org_id: orgId, event: 'resolved', alert };
      this.publish(SUBJECTS.alerts.events(orgId), event);
    }
    return { deleted: true };
  }

  /**
   * Makes the rule's webhooks the `wanted` list: an entry with the id of one of `existing` keeps
   * it (and its secret; the url may change), one without an id is created (its secret shown in
   * this answer only), and existing ones not named are deleted.
   */
  private async replaceWebhooks(
    manager: EntityManager,
    orgId: string,
    ruleId: string,
    existing: StoredWebhook[],
    wanted: WebhookInput[],
  ): Promise<{ webhooks: StoredWebhook[]; secrets: Map<string, string> }> {
    const byId = new Map(existing.map((webhook) => [webhook.id, webhook]));
    const kept = new Set<string>();
    for (const entry of wanted) {
      if (entry.id === undefined) continue;
      if (!byId.has(entry.id))
        throw badRequest('webhooks', `"webhooks" names a webhook id this rule does not have: ${JSON.stringify(entry.id)}`);
      if (kept.has(entry.id)) throw badRequest('webhooks', `"webhooks" names the webhook ${entry.id} twice`);
      kept.add(entry.id);
    }
    await this.rules.deleteWebhooks(
      manager,
      orgId,
      existing.filter((webhook) => !kept.has(webhook.id)).map((webhook) => webhook.id),
    );
    const webhooks: StoredWebhook[] = [];
    const secrets = new Map<string, string>();
    for (const entry of wanted) {
      const previous = entry.id === undefined ? undefined : byId.get(entry.id);
      if (previous) {
        if (previous.url !== entry.url) await this.rules.updateWebhookUrl(manager, orgId, previous.id, entry.url);
        webhooks.push({ ...previous, url: entry.url });
        continue;
      }
      const webhook: StoredWebhook = { id: newId('whk'), rule_id: ruleId, url: entry.url, salt: newWebhookSalt() };
      await this.rules.insertWebhook(manager, orgId, webhook);
      webhooks.push(webhook);
      secrets.set(webhook.id, this.secret.secretFor(webhook));
    }
    return { webhooks, secrets };
  }

  /** Database refusals of the caller's values: bad data is a 400, an org that does not exist a 404. */
  private async write<T>(work: Promise<T>): Promise<T> {
    try {
      return await refuseBadData(work, 'rule');
    } catch (error) {
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) throw new DomainError('NOT_FOUND', 'no such org');
      throw error;
    }
  }

  private rulesChanged(orgId: string): void {
    const event: RulesChangedEvent = { org_id: orgId };
    this.publish(SUBJECTS.alerts.rulesChanged, event);
  }

  /** Core NATS, after the commit: the change is stored whether or not the broker takes the event now. */
  private publish(subject: string, event: RulesChangedEvent | AlertEvent): void {
    try {
      this.broker.nc.publish(subject, JSON.stringify(event));
    } catch (error) {
      this.logger.warn(`${subject} not published for org ${event.org_id}: ${(error as Error).message}`);
    }
  }
}

function requireRuleId(request: unknown): string {
  const ruleId = requireText(request, 'rule_id', 128);
  if (!RULE_ID.test(ruleId)) throw notFound(ruleId);
  return ruleId;
}

function notFound(ruleId: string): DomainError {
  return new DomainError('NOT_FOUND', `rule ${JSON.stringify(ruleId.slice(0, 64))} not found`);
}

function badRequest(field: string, problem: string): DomainError {
  return new DomainError('BAD_REQUEST', problem, [{ field, message: problem }]);
}

const RULE_FIELDS = new Set(Object.keys(RuleInput.properties));

/**
 * The rule, checked by the schema and then by ruleProblem; a BAD_REQUEST naming the field
 * otherwise. Fields are named as in the rule itself (`metric`, `condition`), as the HTTP body has them.
 */
function checkedRule<T extends RulePatch>(value: unknown, check: (value: unknown) => WireCheck<T>, what: 'rule' | 'patch'): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(what, `"${what}" must be an object`);
  // Named here: the schema's refusal of an unknown field names no field (and RulePatch lets them through).
  const unknown = Object.keys(value).find((field) => !RULE_FIELDS.has(field));
  if (unknown !== undefined) throw badRequest(unknown.slice(0, 64), `"${unknown.slice(0, 64)}" is not a field of a rule`);
  const checked = check(value);
  if (!checked.ok) throw badRequest(checked.field, checked.problem);
  const problem = what === 'rule' ? ruleProblem(checked.frame as RuleInput) : undefined;
  if (problem) throw badRequest(problem.field, problem.problem);
  return checked.frame;
}

function fieldsOf(rule: RuleInput): RuleFields {
  return {
    name: rule.name,
    enabled: rule.enabled ?? true,
    source_id: rule.source_id ?? null,
    tags: rule.tags ?? null,
    metric: rule.metric ?? null,
    condition: rule.condition,
    for_seconds: rule.for_seconds ?? 0,
    severity: rule.severity ?? 'warning',
    silenced_until: rule.silenced_until ?? null,
  };
}

/** The stored rule with the patch's fields over it (webhooks are not part of it: they are replaced apart). */
function mergePatch(current: StoredRule, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = {
    name: current.name,
    enabled: current.enabled,
    source_id: current.source_id,
    tags: current.tags,
    metric: current.metric,
    condition: current.condition,
    for_seconds: current.for_seconds,
    severity: current.severity,
    silenced_until: current.silenced_until,
  };
  for (const [field, value] of Object.entries(patch)) if (field !== 'webhooks' && value !== undefined) merged[field] = value;
  return merged;
}

/** What a rule watches changed (or it was disabled): its states and firing alerts are over. */
function watchChanged(before: StoredRule, after: StoredRule): boolean {
  return (
    (before.enabled && !after.enabled) ||
    before.source_id !== after.source_id ||
    before.metric !== after.metric ||
    JSON.stringify(before.tags) !== JSON.stringify(after.tags) ||
    JSON.stringify(before.condition) !== JSON.stringify(after.condition)
  );
}
