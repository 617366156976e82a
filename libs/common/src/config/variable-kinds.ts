import Type, { type Static, type TSchema } from 'typebox';

/** The kinds of variable variables.ts lists, and the builders that give each its schema and error wording. */
export type Reader = 'gateway' | 'ingest' | 'pairing' | 'realtime' | 'alerts' | 'ops' | 'start' | 'compose';

export interface Variable<S extends TSchema = TSchema> {
  /** The heading it is listed under in .env.example and the docs. */
  group: string;
  /** One line: what it does. */
  description: string;
  readers: readonly Reader[];
  /** The value's type and bounds, after an integer's text is read as a number. */
  schema: S;
  kind: 'integer' | 'url' | 'text';
  /** Used when the variable is unset or empty; checked against the schema like a given value. */
  default?: Static<S>;
  /** A default computed from other variables (by the app's config.ts), as the docs say it. */
  derivedDefault?: string;
  /** Completes "<NAME> must be …" in an error at start. */
  must: string;
  /** Never echoed in an error: it is a credential. */
  secret?: boolean;
  /** Surrounding whitespace is ignored. */
  trim?: boolean;
}

export const APPS = ['gateway', 'ingest', 'pairing', 'realtime', 'alerts'] as const;
export const MAX = Number.MAX_SAFE_INTEGER;

export function int<const R extends readonly Reader[]>(
  group: string,
  readers: R,
  min: number,
  max: number,
  fallback: number,
  description: string,
) {
  const schema = Type.Integer({ minimum: min, maximum: max });
  return { group, description, readers, schema, kind: 'integer' as const, default: fallback, must: `a whole number from ${min} to ${max}` };
}

/** An integer whose default the app's config.ts computes from other variables (`derivedDefault` says how). */
export function derivedInt<const R extends readonly Reader[]>(
  group: string,
  readers: R,
  min: number,
  max: number,
  derivedDefault: string,
  description: string,
) {
  const schema = Type.Integer({ minimum: min, maximum: max });
  return { group, description, readers, schema, kind: 'integer' as const, derivedDefault, must: `a whole number from ${min} to ${max}` };
}

/** A URL whose protocol is one of `protocols` (`x-protocols`, checked by an ajv keyword in read-variables.ts). */
function urlSchema(protocols: string[]) {
  return Type.String({ ['x-protocols' as string]: protocols });
}

export function url<const R extends readonly Reader[]>(
  group: string,
  readers: R,
  protocols: string[],
  fallback: string,
  description: string,
) {
  return { ...urlVariable(group, readers, protocols, description), default: fallback };
}

/** A URL whose default the app's config.ts computes from other variables (`derivedDefault` says how). */
export function derivedUrl<const R extends readonly Reader[]>(
  group: string,
  readers: R,
  protocols: string[],
  derivedDefault: string,
  description: string,
) {
  return { ...urlVariable(group, readers, protocols, description), derivedDefault };
}

function urlVariable<const R extends readonly Reader[]>(group: string, readers: R, protocols: string[], description: string) {
  return {
    group,
    description,
    readers,
    schema: urlSchema(protocols),
    kind: 'url' as const,
    must: `a URL using ${protocols.join(' or ')}`,
  };
}

interface TextOptions<S extends TSchema> {
  default?: Static<S>;
  derivedDefault?: string;
  must?: string;
  secret?: boolean;
  trim?: boolean;
}

export function text<const R extends readonly Reader[], S extends TSchema, const O extends TextOptions<S>>(
  group: string,
  readers: R,
  schema: S,
  options: O,
  description: string,
) {
  return { group, description, readers, schema, kind: 'text' as const, must: 'text', ...options };
}
