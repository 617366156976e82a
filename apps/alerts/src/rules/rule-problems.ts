import { ALERT_LIMITS, type RuleInput } from '#common';

/** With `u`, a surrogate pair is one code point (an emoji is a fine key) and only lone surrogates match the class. */
const TAG_KEY = /^[^\u0000-\u001F\u007F\uD800-\uDFFF]+$/u;

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
  const tagProblem = rule.tags ? tagsProblem(rule.tags) : undefined;
  if (tagProblem) return tagProblem;
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

/**
 * The tag keys TagMatch means to allow: its Record compiles to `patternProperties` only, so a key
 * outside the pattern (a control character, 129+ characters, empty) escapes every check, its
 * value included. Checked here until the schema says it itself.
 */
function tagsProblem(tags: Record<string, unknown>): RuleProblem | undefined {
  for (const [key, value] of Object.entries(tags)) {
    // Characters, as the schema counts them (code points), not UTF-16 units.
    if ([...key].length > ALERT_LIMITS.maxTagKeyLength || !TAG_KEY.test(key)) {
      return { field: 'tags', problem: `"tags" keys must be 1 to ${ALERT_LIMITS.maxTagKeyLength} printable characters` };
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      return { field: 'tags', problem: '"tags" values must be strings, numbers or booleans' };
    }
  }
  return undefined;
}
