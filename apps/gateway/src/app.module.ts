import { Module } from '@nestjs/common';
import { ApiModule } from './api.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';

/**
 * The gateway: the HTTP API and the dashboard's files. Medium tests start ApiModule (api.module.ts) alone (the
 * static-file plugin loads an ES-module-only dependency through require, which Jest's module
 * runtime cannot do; the dashboard is tested by the e2e tier against the built gateway).
 */
@Module({ imports: [ApiModule, DashboardModule] })
export class AppModule {}
