import { Module } from '@nestjs/common';
import { IngestController } from './ingest.controller.js';
import { TelemetryPublisher } from '#common';

@Module({ controllers: [IngestController], providers: [TelemetryPublisher] })
export class IngestModule {}
