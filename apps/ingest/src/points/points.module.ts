import { Module } from '@nestjs/common';
import { ReadPoolModule } from '../query/read-pool.js';
import { PointsRepository } from './points.repository.js';
import { SeriesRepository } from './series.repository.js';

@Module({ imports: [ReadPoolModule], providers: [PointsRepository, SeriesRepository], exports: [PointsRepository, SeriesRepository] })
export class PointsModule {}
