import { Module } from '@nestjs/common';
import { PointsModule } from '../points/points.module.js';
import { RetentionService } from './retention.service.js';

@Module({ imports: [PointsModule], providers: [RetentionService] })
export class RetentionModule {}
