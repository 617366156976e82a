import { type Abstract, type DynamicModule, Global, Module } from '@nestjs/common';
import { SUBJECTS_PREFIX } from '../subjects.js';
import { ConfigError } from './read-variables.js';
import { SharedConfig } from './shared-config.js';

/**
 * An app's validated config as a provider: `ConfigModule.forApp(GatewayConfig, readGatewayConfig)`
 * reads the environment when the Nest module is created (not when a file is imported) and provides
 * the app's config class, and SharedConfig as an alias of it for the shared modules. A test
 * replaces it with `.overrideProvider(GatewayConfig).useValue(...)`.
 */
@Global()
@Module({})
export class ConfigModule {
  static forApp<C extends SharedConfig>(token: Abstract<C>, read: () => C): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: token, useFactory: () => withSubjectsPrefix(read()) },
        { provide: SharedConfig, useExisting: token },
      ],
      exports: [token, SharedConfig],
    };
  }
}

/** Subjects are fixed when subjects.ts loads (see SUBJECTS there): a config that disagrees is refused, not half-used. */
function withSubjectsPrefix<C extends SharedConfig>(config: C): C {
  if (config.natsPrefix !== SUBJECTS_PREFIX) {
    throw new ConfigError(
      `PLEXUS_NATS_PREFIX is "${config.natsPrefix}" but the NATS subjects were built for "${SUBJECTS_PREFIX}" when subjects.ts loaded: set it before importing the app`,
    );
  }
  return config;
}
