import { type DynamicModule, Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { SharedConfig } from '../config/shared-config.js';
import { BrokerConnection } from './connection.js';

const BROKER_NAME = Symbol('BROKER_NAME');

@Injectable()
class BrokerCloser implements OnApplicationShutdown {
  constructor(private readonly broker: BrokerConnection) {}
  async onApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }
}

/** One raw NATS connection per app, for JetStream and chunked streams; drained at shutdown. */
@Global()
@Module({})
export class BrokerModule {
  static forRoot(appName: string): DynamicModule {
    return {
      module: BrokerModule,
      providers: [
        { provide: BROKER_NAME, useValue: appName },
        {
          provide: BrokerConnection,
          inject: [BROKER_NAME, SharedConfig],
          useFactory: (name: string, config: SharedConfig) => BrokerConnection.open(config.nats, `plexus-${name}`),
        },
        BrokerCloser,
      ],
      exports: [BrokerConnection],
    };
  }
}
