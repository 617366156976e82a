import { describe, expect, it } from '@jest/globals';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { IsString } from 'class-validator';
import { register } from 'prom-client';
import { DomainError } from '../errors.js';
import { HttpErrorFilter } from './http-exception.filter.js';
import { RequestValidationPipe } from './request-validation.pipe.js';

const filter = new HttpErrorFilter();
const fastifyError = (code: string, statusCode: number, message = 'fastify says no') =>
  Object.assign(new Error(message), { code, statusCode });

describe('HttpErrorFilter', () => {
  it.each([
    ['a scope DomainError', 403, 'SCOPE_MISSING', new DomainError('SCOPE_MISSING', 'no')],
    ['a pairing DomainError', 410, 'CODE_EXPIRED', new DomainError('CODE_EXPIRED', 'gone')],
    ['an unknown route', 404, 'NOT_FOUND', new NotFoundException('Cannot GET /x')],
    ['a validation failure', 400, 'INVALID_BODY', new BadRequestException(['name must be a string'])],
    ['an unsupported media type', 415, 'UNSUPPORTED_MEDIA_TYPE', fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)],
    ['a body too large', 413, 'PAYLOAD_TOO_LARGE', fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413)],
    [
      'a bad URL (not quoted back)',
      400,
      'BAD_REQUEST',
      fastifyError('FST_ERR_BAD_URL', 400, `'/${'x'.repeat(5000)}' is not a valid url component`),
    ],
    ['bad JSON', 400, 'INVALID_BODY', Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 })],
  ])('%s → %i %s', (_what, status, code, error) => {
    const { body } = filter.describe(error, 'corr-1');
    expect(body).toMatchObject({ statusCode: status, code, error: expect.any(String) });
    expect(body.message.length).toBeLessThan(600);
  });

  it('answers anything unknown with 500 INTERNAL naming the correlation id, and counts it', async () => {
    const before =
      (await register.getSingleMetric('plexus_unexpected_errors_total')!.get()).values.find((v) => v.labels.where === 'http')?.value ?? 0;
    const { body } = filter.describe(new TypeError('boom'), 'corr-2');
    expect(body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      code: 'INTERNAL',
      message: 'internal error; correlation id corr-2',
    });
    const after = (await register.getSingleMetric('plexus_unexpected_errors_total')!.get()).values.find(
      (v) => v.labels.where === 'http',
    )?.value;
    expect(after).toBe(before + 1);
  });
});

class NameDto {
  @IsString()
  name: string;
}

async function refusal(
  value: unknown,
  type: 'body' | 'query' | 'param',
  metatype?: new () => unknown,
  data?: string,
): Promise<DomainError> {
  const error = await new RequestValidationPipe().transform(value, { type, metatype, data }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

describe('RequestValidationPipe', () => {
  it('refuses NUL and lone surrogates in bodies, queries and params, naming the field', async () => {
    expect((await refusal({ name: 'a\u0000' }, 'body', NameDto)).toWire()).toEqual({
      code: 'INVALID_BODY',
      message: 'name must not contain NUL (\\u0000) characters',
      details: [{ field: 'name', message: 'name must not contain NUL (\\u0000) characters' }],
    });
    expect((await refusal('\ud800', 'param', String, 'sessionId')).toWire()).toMatchObject({
      code: 'BAD_REQUEST',
      details: [{ field: 'sessionId' }],
    });
    expect((await refusal({ cursor: 'x\u0000' }, 'query', NameDto)).toWire()).toMatchObject({
      code: 'BAD_REQUEST',
      details: [{ field: 'cursor' }],
    });
  });

  it('names each field class-validator refuses: INVALID_BODY in the body, BAD_REQUEST in the query', async () => {
    expect((await refusal({ name: 5 }, 'body', NameDto)).toWire()).toMatchObject({
      code: 'INVALID_BODY',
      details: [{ field: 'name', message: 'name must be a string' }],
    });
    expect((await refusal({ name: 5 }, 'query', NameDto)).code).toBe('BAD_REQUEST');
    expect((await refusal(['x'], 'body', NameDto)).message).toBe('the body must be a JSON object');
  });

  it('leaves a body without a DTO class to its own schema, and passes valid input through', async () => {
    const pipe = new RequestValidationPipe();
    await expect(pipe.transform({ points: ['\u0000'] }, { type: 'body', metatype: Object })).resolves.toEqual({ points: ['\u0000'] });
    await expect(pipe.transform({ name: 'ok 😀' }, { type: 'body', metatype: NameDto })).resolves.toEqual({ name: 'ok 😀' });
  });
});
