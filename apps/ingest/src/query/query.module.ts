import { Module } from '@nestjs/common';
import { QueryController } from './query.controller.js';
import { QueryService } from './query.service.js';
import { ReadPoolModule } from './read-pool.js';

@Module({ imports: [ReadPoolModule], controllers: [QueryController], providers: [QueryService] })
export class QueryModule {}
