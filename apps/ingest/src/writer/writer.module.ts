import { Module } from '@nestjs/common';
import { PointsWriter } from './points-writer.service.js';
import { TelemetryConsumer } from './telemetry-consumer.service.js';

@Module({ providers: [PointsWriter, TelemetryConsumer] })
export class WriterModule {}
