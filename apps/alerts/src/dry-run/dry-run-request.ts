import { checkRuleTest, DomainError, PRINTABLE_PATTERN, parseTimeParam, type RuleInput } from '#common';
import { ruleProblem } from '../rules/rule-problems.js';

const DAY_US = 86_400_000_000;
/** Without `from`, a dry run looks back this far from `to`. */
export const DEFAULT_RANGE_US = DAY_US;
/** The longest range a dry run reads. */
export const MAX_RANGE_US = 31 * DAY_US;
const MAX_ORG_ID_LENGTH = 128;
const PRINTABLE = new RegExp(PRINTABLE_PATTERN, 'u');

/** What a dry run reads: a time range of the org's points, or one recorded session's points. */
export type DryRunScope = { kind: 'range'; fromUs: number; toUs: number } | { kind: 'session'; sessionId: string };

export interface DryRunRequest {
  orgId: string;
  rule: RuleInput;
  scope: DryRunScope;
}

function badRequest(field: string, problem: string): DomainError {
  return new DomainError('BAD_REQUEST', `${field} ${problem}`, [{ field, message: problem }]);
}

/**
 * A `TestRuleRequest` as it came over NATS, checked: the rule by the same schema and semantic
 * checks as a created rule, either a session or a range (ISO 8601 or Unix seconds; `to` defaults
 * to now, `from` to a day before `to`; at most 31 days). Anything else is a BAD_REQUEST naming
 * the field. `nowUs`: the time "now" is.
 */
export function parseDryRunRequest(request: unknown, nowUs: number): DryRunRequest {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw badRequest('request', 'must be a JSON object {org_id, rule, from?, to?, session_id?}');
  }
  const { org_id: orgId, ...input } = request as Record<string, unknown>;
  if (typeof orgId !== 'string' || orgId.length === 0 || orgId.length > MAX_ORG_ID_LENGTH || !PRINTABLE.test(orgId)) {
    throw badRequest('org_id', `must be 1 to ${MAX_ORG_ID_LENGTH} printable characters`);
  }
  const checked = checkRuleTest(input);
  // The schema's problem already names the field ("name" must be …).
  if (!checked.ok) throw new DomainError('BAD_REQUEST', checked.problem, [{ field: checked.field, message: checked.problem }]);
  const { rule, from, to, session_id: sessionId } = checked.frame;
  const semantic = ruleProblem(rule);
  if (semantic) throw new DomainError('BAD_REQUEST', semantic.problem, [{ field: `rule.${semantic.field}`, message: semantic.problem }]);
  if (rule.condition.type === 'offline') {
    throw badRequest('rule.condition', 'is offline: offline rules cannot be dry-run: presence is not stored');
  }
  if (sessionId !== undefined) {
    if (from !== undefined || to !== undefined)
      throw badRequest('session_id', 'cannot be given with from or to: a dry run reads a session or a range, not both');
    return { orgId, rule, scope: { kind: 'session', sessionId } };
  }
  const toUs = to === undefined ? nowUs : timeOf('to', to);
  const fromUs = from === undefined ? toUs - DEFAULT_RANGE_US : timeOf('from', from);
  if (fromUs >= toUs) throw badRequest('from', 'must be before to');
  if (toUs - fromUs > MAX_RANGE_US) throw badRequest('to', 'must be at most 31 days after from');
  return { orgId, rule, scope: { kind: 'range', fromUs, toUs } };
}

function timeOf(field: 'from' | 'to', value: string | number): number {
  const us = parseTimeParam(typeof value === 'number' ? String(value) : value);
  if (us === undefined) throw badRequest(field, 'must be an ISO 8601 date-time or Unix seconds between the years 0001 and 9999');
  return us;
}
