import { Controller, Get, HttpException, Inject } from '@nestjs/common';
import { READINESS_CHECKS, runChecks, type ReadinessCheck } from './readiness.js';

@Controller('health')
export class HealthController {
  constructor(@Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[]) {}

  /** Liveness: the process answers. */
  @Get()
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: NATS and the database (where the app uses one) are reachable. */
  @Get('ready')
  async ready(): Promise<{ status: 'ready'; checks: Record<string, string> }> {
    const result = await runChecks(this.checks);
    if (!result.ready) throw new HttpException({ message: `not ready: ${JSON.stringify(result.checks)}` }, 503);
    return { status: 'ready', checks: result.checks };
  }
}
