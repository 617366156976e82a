import { Module } from '@nestjs/common';
import { PointsModule } from '../points/points.module.js';
import { QueryController } from './query.controller.js';
import { QueryService } from './query.service.js';

@Module({ imports: [PointsModule], controllers: [QueryController], providers: [QueryService] })
export class QueryModule {}
