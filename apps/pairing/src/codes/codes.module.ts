import { Module } from '@nestjs/common';
import { CodesController } from './codes.controller.js';
import { CodesService } from './codes.service.js';
import { PairingSecret } from './pairing-secret.js';

@Module({ controllers: [CodesController], providers: [CodesService, PairingSecret] })
export class CodesModule {}
