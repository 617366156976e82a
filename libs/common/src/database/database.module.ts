import { type DynamicModule, Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sharedConfig } from '../config/shared-config.js';
import type { ReadinessCheck } from '../health/readiness.js';
import { type EntityClass, openDatabaseWhenReachable } from './database.js';

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The app's DataSource: database created if missing and migrated (under a lock) before anything
 * uses it; an app started while PostgreSQL is away waits for it (logged) instead of exiting.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(entities: EntityClass[], poolSize = 10): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DataSource, useFactory: () => openDatabaseWhenReachable(sharedConfig.databaseUrl, entities, poolSize) },
        DatabaseCloser,
      ],
      exports: [DataSource],
    };
  }
}

export function databaseReadiness(dataSource: DataSource): ReadinessCheck {
  return { name: 'database', check: async () => (await dataSource.query('SELECT 1 AS ok'))[0]?.ok === 1 };
}
