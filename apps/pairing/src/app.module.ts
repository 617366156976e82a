import { Module } from '@nestjs/common';
import { BrokerModule, ConfigModule, DatabaseModule, HealthModule, MetricsModule } from '#common';
import { PairingConfig, readPairingConfig } from './config.js';
import { ApiKeyEntity } from './keys/api-key.entity.js';
import { KeysModule } from './keys/keys.module.js';
import { OrgEntity } from './orgs/org.entity.js';
import { OrgsModule } from './orgs/orgs.module.js';
import { AuditModule } from './audit/audit.module.js';
import { CodesModule } from './codes/codes.module.js';
import { PairingCodeEntity } from './codes/pairing-code.entity.js';
import { DeviceTokenEntity } from './sources/device-token.entity.js';
import { SourceEntity } from './sources/source.entity.js';
import { SourcesModule } from './sources/sources.module.js';

@Module({
  imports: [
    ConfigModule.forApp(PairingConfig, () => readPairingConfig()),
    BrokerModule.forRoot('pairing'),
    DatabaseModule.forRoot([OrgEntity, ApiKeyEntity, SourceEntity, DeviceTokenEntity, PairingCodeEntity], 5),
    MetricsModule.forApp('pairing'),
    HealthModule.forRoot({ database: true }),
    KeysModule,
    OrgsModule,
    SourcesModule,
    CodesModule,
    AuditModule,
  ],
})
export class AppModule {}
