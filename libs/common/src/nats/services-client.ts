import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { ClientsModule, Transport, type ClientProxy } from '@nestjs/microservices';
import { sharedConfig } from '../config/shared-config.js';
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
    ClientsModule.register([
      {
        name: SERVICES,
        transport: Transport.NATS,
        options: { ...natsConnectionOptions(sharedConfig.nats, 'plexus-rpc-client'), maxReconnectAttempts: -1, reconnectTimeWait: 500 },
      },
    ]),
  ],
  providers: [ServicesClient],
  exports: [ServicesClient],
})
export class ServicesClientModule {}
