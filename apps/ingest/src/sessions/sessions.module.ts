import { Module } from '@nestjs/common';
import { PointsModule } from '../points/points.module.js';
import { SessionExportService } from './session-export.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

@Module({ imports: [PointsModule], controllers: [SessionsController], providers: [SessionsService, SessionExportService] })
export class SessionsModule {}
