import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.js';
import { DashboardFiles } from './dashboard-files.js';

/** The web dashboard, built by `npm run build` into dist/dashboard/ (see docs/dashboard.md). */
@Module({ controllers: [DashboardController], providers: [DashboardFiles] })
export class DashboardModule {}
