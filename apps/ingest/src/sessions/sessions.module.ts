import { Module } from '@nestjs/common';
import { SessionExportService } from './session-export.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

@Module({ controllers: [SessionsController], providers: [SessionsService, SessionExportService] })
export class SessionsModule {}
