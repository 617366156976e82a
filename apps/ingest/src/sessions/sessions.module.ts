import { Module } from '@nestjs/common';
import { ReadPoolModule } from '../query/read-pool.js';
import { SessionExportService } from './session-export.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

@Module({ imports: [ReadPoolModule], controllers: [SessionsController], providers: [SessionsService, SessionExportService] })
export class SessionsModule {}
