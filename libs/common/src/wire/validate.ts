import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from 'typebox';
import { RuleInput, RulePatch, RuleTestInput } from './alerts.js';
import { BrowserAuthFrame, OnlineSource, SubscribeFrame } from './browser-frames.js';
import {
  DEVICE_COMMAND_FRAMES,
  DEVICE_EVENT_FRAMES,
  DeviceAuthFrame,
  type DeviceCommandFrame,
  type DeviceEventFrame,
} from './device-frames.js';

/*
 * The wire's validators, compiled once at load from the frame schemas. Node only (the
 * dashboard and the agent use the schemas' types, not these).
 */

/** A checked frame, or the first problem found, naming the field: `"session_id" must be 1 to 128 printable characters`. */
export type WireCheck<T> = { ok: true; frame: T } | { ok: false; field: string; problem: string };

/*
 * Lengths count characters (code points), as HTTP ingest and PostgreSQL do; patterns compile
 * with the `u` flag, which the printable rule needs. strict: false lets TypeBox's own marks and
 * the `refusal` annotation pass.
 */
const ajv = new Ajv({ allErrors: false, strict: false });
ajv.addKeyword({
  keyword: 'maxJsonBytes',
  schemaType: 'number',
  // Depth is bounded before a frame is parsed (REALTIME_LIMITS.maxDepth), so stringify cannot recurse away.
  validate: (max: number, data: unknown) => Buffer.byteLength(JSON.stringify(data) ?? '') <= max,
  errors: false,
});

interface SchemaNode {
  refusal?: string;
  properties?: Record<string, SchemaNode>;
  /** A record's values (TypeBox compiles Record to one pattern). */
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
}

/** The schema of `segment` under `node`, looking through a nullable union to the branch that has it. */
function child(node: SchemaNode, segment: string): SchemaNode | undefined {
  for (const candidate of [node, ...(node.anyOf ?? [])]) {
    const found = /^\d+$/.test(segment)
      ? candidate.items
      : (candidate.properties?.[segment] ?? Object.values(candidate.patternProperties ?? {})[0]);
    if (found) return found;
  }
  return undefined;
}

/** The refused field by name, and the reason its schema gives (`refusal`), else Ajv's. */
function describe(root: SchemaNode, error: ErrorObject): { field: string; problem: string } {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') {
    const field = String(error.params.missingProperty);
    return { field, problem: `"${field}" is required` };
  }
  if (error.keyword === 'additionalProperties') {
    const field = String(error.params.additionalProperty).slice(0, 64);
    const parent = segments.at(-1);
    return { field, problem: `"${field}" is not a field of ${parent ? `"${parent}"` : 'it'}` };
  }
  let node: SchemaNode | undefined = root;
  for (const segment of segments) node = node && child(node, segment);
  const reason = node?.refusal ?? error.message ?? 'is invalid';
  const last = segments.at(-1) ?? 'frame';
  if (/^\d+$/.test(last) && segments.length > 1) {
    const list = segments.at(-2) as string;
    return { field: list, problem: `each of "${list}" ${reason}` };
  }
  return { field: last, problem: `"${last}" ${reason}` };
}

/** Of a union's branches, the one that got furthest says most (a bad item rather than "not null"). */
function deepest(errors: ErrorObject[]): ErrorObject | undefined {
  let found: ErrorObject | undefined;
  for (const error of errors) if (!found || error.instancePath.length > found.instancePath.length) found = error;
  return found;
}

function compile<T extends TSchema>(schema: T): (value: unknown) => WireCheck<Static<T>> {
  const validate = ajv.compile(schema) as ValidateFunction<Static<T>>;
  return (value) => {
    if (validate(value)) return { ok: true, frame: value };
    const error = deepest(validate.errors ?? []);
    return error ? { ok: false, ...describe(schema as SchemaNode, error) } : { ok: false, field: 'frame', problem: 'frame is invalid' };
  };
}

/** One validator per frame type; a type the table does not list gets undefined (the caller's "unknown type"). */
function compileTable<M extends Record<string, TSchema>, F>(table: M): <U extends { type: string }>(frame: U) => WireCheck<F> | undefined {
  const validators = new Map<string, (value: unknown) => WireCheck<F>>();
  for (const [type, schema] of Object.entries(table)) validators.set(type, compile(schema) as (value: unknown) => WireCheck<F>);
  return (frame) => validators.get(frame.type)?.(frame);
}

export const checkDeviceAuth = compile(DeviceAuthFrame);
export const checkBrowserAuth = compile(BrowserAuthFrame);
export const checkSubscribe = compile(SubscribeFrame);
/** An entry of a realtime instance's presence answer (it reaches browsers as `init`'s online_sources). */
export const checkOnlineSource = compile(OnlineSource);
/** Device → server frames; undefined for a type a device may not send. */
export const checkDeviceEvent = compileTable<typeof DEVICE_EVENT_FRAMES, DeviceEventFrame>(DEVICE_EVENT_FRAMES);
/** Dashboard → device commands; undefined for a type that is not one. */
export const checkDeviceCommand = compileTable<typeof DEVICE_COMMAND_FRAMES, DeviceCommandFrame>(DEVICE_COMMAND_FRAMES);
/** Alert rules (HTTP body and NATS request alike): docs/alerts.md. */
export const checkRuleInput = compile(RuleInput);
export const checkRulePatch = compile(RulePatch);
export const checkRuleTest = compile(RuleTestInput);
