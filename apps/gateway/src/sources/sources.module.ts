import { Module } from '@nestjs/common';
import { PairingAttempts } from './pairing-attempts.js';
import { SourcesController } from './sources.controller.js';

@Module({ controllers: [SourcesController], providers: [PairingAttempts] })
export class SourcesModule {}
