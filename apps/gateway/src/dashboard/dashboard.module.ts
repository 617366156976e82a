import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { DashboardController } from './dashboard.controller.js';
import { DashboardFiles, serveDashboardFiles } from './dashboard-files.js';

/** The web dashboard, built by `npm run build` into dist/dashboard/ (see docs/dashboard.md). */
@Module({ controllers: [DashboardController], providers: [DashboardFiles] })
export class DashboardModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Before the app listens: the static routes join Fastify's router beside the controllers'. */
  onModuleInit(): void {
    serveDashboardFiles(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }
}
