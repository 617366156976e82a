import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { DomainError } from '../errors.js';
import { DomainRpcExceptionFilter } from './rpc.js';

async function wireErrorOf(error: unknown): Promise<unknown> {
  return firstValueFrom(new DomainRpcExceptionFilter().catch(error)).then(
    () => {
      throw new Error('the filter let the error through as a value');
    },
    (wire: unknown) => wire,
  );
}

const logged: unknown[] = [];
const capture: LoggerService = { log: () => undefined, warn: () => undefined, error: (message: unknown) => void logged.push(message) };
beforeAll(() => Logger.overrideLogger(capture));
afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

describe('DomainRpcExceptionFilter', () => {
  it('sends a DomainError back as the same wire error', async () => {
    const wire = await wireErrorOf(new DomainError('NOT_FOUND', 'session s-1 not found'));
    expect(wire).toEqual({ code: 'NOT_FOUND', message: 'session s-1 not found' });
    expect(DomainError.fromWire(wire)?.status).toBe(404);
  });

  it('answers an unexpected error with INTERNAL and an error id, never its raw message', async () => {
    const wire = (await wireErrorOf(new Error('relation "points" does not exist at /srv/secret/path'))) as {
      code: string;
      message: string;
    };
    expect(wire.code).toBe('INTERNAL');
    expect(wire.message).toMatch(/^internal error; error id [0-9a-f-]{36}$/);
    expect(wire.message).not.toContain('points');
    expect(DomainError.fromWire(wire)?.status).toBe(500);
    // The operator gets the whole story under the same id.
    const errorId = wire.message.split(' ').pop();
    expect(logged).toContainEqual(
      expect.objectContaining({ error_id: errorId, error: expect.stringContaining('relation "points" does not exist') }),
    );
  });
});
