import { Module } from '@nestjs/common';
import { QueryModule } from '../query/query.module.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsService } from './sessions.service.js';

@Module({ imports: [QueryModule], controllers: [SessionsController], providers: [SessionsService] })
export class SessionsModule {}
