import { type DynamicModule, Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SharedConfig } from '../config/shared-config.js';
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
  /** `poolSize` may be read from the app's config (the ConfigModule's class), e.g. `(config: IngestConfig) => config.writePoolSize`. */
  static forRoot<C extends SharedConfig = SharedConfig>(
    entities: EntityClass[],
    poolSize: number | ((config: C) => number) = 10,
  ): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          inject: [SharedConfig],
          useFactory: (config: SharedConfig) =>
            openDatabaseWhenReachable(config.databaseUrl, entities, typeof poolSize === 'number' ? poolSize : poolSize(config as C)),
        },
        DatabaseCloser,
      ],
      exports: [DataSource],
    };
  }
}

export function databaseReadiness(dataSource: DataSource): ReadinessCheck {
  return { name: 'database', check: async () => (await dataSource.query('SELECT 1 AS ok'))[0]?.ok === 1 };
}
