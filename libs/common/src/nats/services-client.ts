import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { ClientsModule, Transport, type ClientProxy } from '@nestjs/microservices';
import { SharedConfig } from '../config/shared-config.js';
import { natsConnectionOptions } from './connection-options.js';
import { callService } from './rpc.js';

const SERVICES = 'PLEXUS_SERVICES';

/** Request/reply to the other apps over NATS, always with a timeout. */
@Injectable()
export class ServicesClient {
  constructor(@Inject(SERVICES) private readonly client: ClientProxy) {}

  call<T>(subject: string, payload: unknown, timeoutMs = 2000): Promise<T> {
    return callService<T>(this.client, subject, payload, timeoutMs);
  }
}

@Global()
@Module({
  imports: [
    ClientsModule.registerAsync([
      {
        name: SERVICES,
        inject: [SharedConfig],
        useFactory: (config: SharedConfig) => ({
          transport: Transport.NATS,
          options: { ...natsConnectionOptions(config.nats, 'plexus-rpc-client'), maxReconnectAttempts: -1, reconnectTimeWait: 500 },
        }),
      },
    ]),
  ],
  providers: [ServicesClient],
  exports: [ServicesClient],
})
export class ServicesClientModule {}
