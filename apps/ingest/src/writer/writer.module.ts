import { Module } from '@nestjs/common';
import { PointsModule } from '../points/points.module.js';
import { PointsWriter } from './points-writer.service.js';
import { TelemetryConsumer } from './telemetry-consumer.service.js';

@Module({ imports: [PointsModule], providers: [PointsWriter, TelemetryConsumer] })
export class WriterModule {}
