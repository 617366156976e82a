import type { RuleInput } from '#common';

export interface RuleProblem {
  field: string;
  problem: string;
}

/**
 * What the schema cannot say about a rule (docs/alerts.md, "Rule semantics"): every condition
 * but offline watches a metric; offline watches sources, so it refuses a metric and tags; a
 * range has low <= high; silenced_until is a real time. Undefined for a sound rule.
 */
export function ruleProblem(rule: RuleInput): RuleProblem | undefined {
  const { condition } = rule;
  if (condition.type === 'offline') {
    if (rule.metric !== undefined && rule.metric !== null) {
      return { field: 'metric', problem: '"metric" must be absent or null for an offline rule (it watches sources, not metrics)' };
    }
    if (rule.tags !== undefined && rule.tags !== null) {
      return { field: 'tags', problem: '"tags" must be absent or null for an offline rule (it watches sources, not series)' };
    }
  } else if (rule.metric === undefined || rule.metric === null) {
    return { field: 'metric', problem: `"metric" is required for a ${condition.type} rule` };
  }
  if ((condition.type === 'outside' || condition.type === 'inside') && condition.low > condition.high) {
    return { field: 'condition', problem: '"condition" must have low <= high' };
  }
  if (typeof rule.silenced_until === 'string' && Number.isNaN(Date.parse(rule.silenced_until))) {
    return { field: 'silenced_until', problem: '"silenced_until" must be a real date and time' };
  }
  return undefined;
}
