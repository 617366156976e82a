import { registerDecorator } from 'class-validator';
import { KEY_LIMITS } from '../messages/sources.js';
import { unsafeTextReason } from './text-safety.js';

/*
 * The one rule for an API key's name, checked by the gateway (POST /api/keys) and by the pairing
 * app (keys.create, which operators' scripts call directly), so both refuse the same names:
 * a string of 1 to KEY_LIMITS.maxNameLength characters counted as Unicode code points, as sent
 * (as PostgreSQL counts them, and as the platform's other lengths do). An emoji is one character
 * whether or not it is outside the BMP; a combining mark, a variation selector or a zero-width
 * joiner is a character of its own (graphemes are not counted: one could hold any number of marks
 * and the bound would no longer bound bytes). Not only whitespace; no NUL, no lone surrogate
 * (PostgreSQL cannot store them, as everywhere in the API). Other control characters are text like
 * any other. The name is stored trimmed.
 */

/** The code points of `text`, counted up to `stopAfter` (a lone surrogate counts as one). */
export function codePointLength(text: string, stopAfter = Infinity): number {
  let count = 0;
  for (let index = 0; index < text.length && count < stopAfter; index++, count++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
  }
  return count;
}

/** What is wrong with `name` as an API key's name, to follow "name " in a message; undefined when it is valid. */
export function keyNameProblem(name: unknown): string | undefined {
  const rule = `must be a string of 1 to ${KEY_LIMITS.maxNameLength} characters (Unicode code points)`;
  if (typeof name !== 'string') return rule;
  const unsafe = unsafeTextReason(name);
  if (unsafe) return unsafe;
  if (codePointLength(name, KEY_LIMITS.maxNameLength + 1) > KEY_LIMITS.maxNameLength) return `${rule}: it is longer`;
  if (!name.trim()) return `${rule}, not only whitespace`;
  return undefined;
}

/** keyNameProblem as a class-validator constraint, for the gateway's DTO. */
export function IsKeyName(): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isKeyName',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => keyNameProblem(value) === undefined,
        defaultMessage: (args) => `${args?.property} ${keyNameProblem(args?.value) ?? 'is invalid'}`,
      },
    });
  };
}
