import { registerDecorator, type ValidationOptions, ValidateIf } from 'class-validator';
import { findUnsafeText } from './text-safety.js';

export interface JsonBounds {
  maxBytes: number;
  maxDepth: number;
}

/** Free-form JSON objects of sessions (tags, metadata): ≤ 64 KiB as JSON, ≤ 32 levels. */
export const SESSION_JSON_BOUNDS: JsonBounds = { maxBytes: 64 * 1024, maxDepth: 32 };

/** Why `value` is not a JSON object within `bounds`, or undefined when it is. */
export function jsonObjectProblem(value: unknown, bounds: JsonBounds): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object';
  // Depth first: JSON.stringify recurses, so it only meets values known to be shallow.
  const problem = findUnsafeText(value, bounds.maxDepth);
  if (problem) return problem.path ? `${problem.path} ${problem.reason}` : problem.reason;
  if (Buffer.byteLength(JSON.stringify(value)) > bounds.maxBytes) return `must be at most ${bounds.maxBytes / 1024} KiB as JSON`;
  return undefined;
}

/** A JSON object within `bounds` (size as JSON, nesting, storable text). */
export function IsBoundedJsonObject(bounds: JsonBounds, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isBoundedJsonObject',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => jsonObjectProblem(value, bounds) === undefined,
        defaultMessage: (args) => `${args?.property} ${jsonObjectProblem(args?.value, bounds) ?? 'is invalid'}`,
      },
    });
  };
}

/**
 * Like @IsOptional(), but only an absent field is skipped: `"name": null` is validated (and
 * refused) instead of reaching the database as NULL.
 */
export function IsOmittable(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined, options);
}
