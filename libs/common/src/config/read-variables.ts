import { Ajv, type ValidateFunction } from 'ajv';
import Type from 'typebox';
import { type ValueOf, type Variable, type VariableName, VARIABLES } from './variables.js';

/** A variable with a value it cannot have; the message names the variable and what it must be. */
export class ConfigError extends Error {}

export type Env = Record<string, string | undefined>;

/** The values of `names`, keyed by variable name. */
export type Values<N extends VariableName> = { [K in N]: ValueOf<K> };

// allErrors: a start that fails lists every bad variable at once, not one per attempt.
const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addKeyword({
  keyword: 'x-protocols',
  type: 'string',
  schemaType: 'array',
  validate: (protocols: string[], value: string) => protocolOf(value) !== undefined && protocols.includes(protocolOf(value)!),
});
const validators = new Map<string, ValidateFunction>();

function protocolOf(value: string): string | undefined {
  try {
    return new URL(value).protocol;
  } catch {
    return undefined;
  }
}

/** Only an optional sign and digits are a whole number: not "1.5", "0x1F", "1e3" nor " ". */
const WHOLE_NUMBER = /^-?\d+$/;

/**
 * Reads `names` from `env`: unset or empty takes the variable's default, an integer's text must be
 * digits, and every value (defaults too) is checked against its schema in VARIABLES. Throws one
 * ConfigError naming each bad variable and what it must be (never echoing a secret).
 */
export function readVariables<N extends VariableName>(names: readonly N[], env: Env = process.env): Values<N> {
  const values: Record<string, unknown> = {};
  const given: Record<string, string> = {};
  for (const name of names) {
    const variable: Variable = VARIABLES[name];
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (variable.default !== undefined) values[name] = variable.default;
      continue;
    }
    given[name] = raw;
    const value = variable.trim ? raw.trim() : raw;
    values[name] = variable.kind === 'integer' && WHOLE_NUMBER.test(value.trim()) ? Number(value) : value;
  }
  const validate = validatorFor(names);
  if (!validate(values)) {
    const bad = [...new Set((validate.errors ?? []).map((error) => error.instancePath.split('/')[1] as N))];
    throw new ConfigError(bad.map((name) => explain(name, given[name] ?? String(values[name]))).join('\n'));
  }
  return values as Values<N>;
}

function validatorFor(names: readonly VariableName[]): ValidateFunction {
  const key = names.join(',');
  let validate = validators.get(key);
  if (!validate) {
    const properties = Object.fromEntries(names.map((name) => [name, Type.Optional(VARIABLES[name].schema)]));
    validate = ajv.compile(Type.Object(properties, { additionalProperties: false }));
    validators.set(key, validate);
  }
  return validate;
}

/** "<NAME> must be …, got "…"": a URL's two ways of being wrong are told apart, as people make both. */
export function explain(name: VariableName, raw: string): string {
  const variable: Variable = VARIABLES[name];
  if (variable.kind === 'url') {
    const protocol = protocolOf(raw);
    if (protocol === undefined) return `${name} must be a URL, got "${raw}"`;
    const protocols = (variable.schema as { 'x-protocols': string[] })['x-protocols'];
    return `${name} must use ${protocols.join(' or ')}, got "${protocol}"`;
  }
  return variable.secret ? `${name} must be ${variable.must}` : `${name} must be ${variable.must}, got "${raw}"`;
}
