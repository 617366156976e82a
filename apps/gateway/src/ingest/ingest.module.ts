import { Module } from '@nestjs/common';
import { IngestController } from './ingest.controller.js';
import { TelemetryPublisher } from '#common';

@Module({ controllers: [IngestController], providers: [TelemetryPublisher], exports: [TelemetryPublisher] })
export class IngestModule {}
