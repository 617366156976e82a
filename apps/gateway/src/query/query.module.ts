import { Module } from '@nestjs/common';
import { QueryConcurrency } from './query-concurrency.js';
import { QueryController } from './query.controller.js';
import { QueryService } from './query.service.js';

/** `/api/query`; also lends the per-key cap of queries and exports to session exports. */
@Module({ controllers: [QueryController], providers: [QueryService, QueryConcurrency], exports: [QueryConcurrency] })
export class QueryModule {}
