import { type ArgumentMetadata, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError, type ErrorDetail } from '../errors.js';
import { findUnsafeText } from '../validation/text-safety.js';

/**
 * The one global pipe: every body, query and path parameter is first checked for text
 * PostgreSQL cannot store (NUL, lone surrogates) and for depth, then validated against its
 * DTO. Failures are 400s naming the field, with code INVALID_BODY for the body and
 * BAD_REQUEST for the path and query.
 */
@Injectable()
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      transform: true,
      forbidUnknownValues: false,
      exceptionFactory: (errors) => {
        const details = flatten(errors);
        return new DomainError('INVALID_BODY', details.map((detail) => detail.message).join('; '), details);
      },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body' && metadata.type !== 'query' && metadata.type !== 'param') return super.transform(value, metadata);
    const code = metadata.type === 'body' ? 'INVALID_BODY' : 'BAD_REQUEST';
    const hasDto = typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    // A body without a DTO class (ingest) is checked by its own compiled schema, which names
    // the point index; walking a 5 MiB body twice would only cost time.
    if (metadata.type !== 'body' || hasDto) {
      const problem = findUnsafeText(value);
      if (problem) {
        const field = [metadata.data, problem.path].filter(Boolean).join('.') || (metadata.type === 'body' ? 'body' : metadata.type);
        throw new DomainError(code, `${field} ${problem.reason}`, [{ field, message: `${field} ${problem.reason}` }]);
      }
    }
    if (metadata.type === 'body' && hasDto && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new DomainError('INVALID_BODY', 'the body must be a JSON object', [
        { field: 'body', message: 'the body must be a JSON object' },
      ]);
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'INVALID_BODY' && code !== 'INVALID_BODY') {
        throw new DomainError(code, error.message, error.details);
      }
      throw error;
    }
  }
}

/** class-validator's errors as details: one per broken constraint, nested fields joined by dots. */
function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
