import { type DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { databaseReadiness } from '../database/database.module.js';
import { BrokerConnection, brokerReadiness } from '../nats/connection.js';
import { telemetryStreamReadiness } from '../nats/streams.js';
import { HealthController } from './health.controller.js';
import { READINESS_CHECKS } from './readiness.js';

/**
 * `/health` and `/health/ready`; ready means NATS answers and, as asked, the telemetry stream
 * exists in JetStream and PostgreSQL answers.
 */
@Module({})
export class HealthModule {
  static forRoot(options: { database: boolean; jetstream?: boolean }): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [
        {
          provide: READINESS_CHECKS,
          inject: options.database ? [BrokerConnection, DataSource] : [BrokerConnection],
          useFactory: (broker: BrokerConnection, dataSource?: DataSource) => [
            brokerReadiness(broker),
            ...(options.jetstream ? [telemetryStreamReadiness(broker)] : []),
            ...(dataSource ? [databaseReadiness(dataSource)] : []),
          ],
        },
      ],
    };
  }
}
