import { Module } from '@nestjs/common';
import { CommandAuditController } from './command-audit.controller.js';
import { CommandAuditService } from './command-audit.service.js';

@Module({ controllers: [CommandAuditController], providers: [CommandAuditService] })
export class AuditModule {}
