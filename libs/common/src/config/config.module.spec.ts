import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SUBJECTS_PREFIX } from '../subjects.js';
import { ConfigModule } from './config.module.js';
import { ConfigError } from './read-variables.js';
import { readSharedConfig, SharedConfig } from './shared-config.js';

/** An app's config class, as apps/<app>/src/config.ts declares one. */
abstract class ExampleConfig extends SharedConfig {
  abstract readonly port: number;
}

const readExample = (env: Record<string, string> = {}): ExampleConfig => ({ ...readSharedConfig(env), port: 1234 });

@Injectable()
class UsesShared {
  constructor(readonly config: SharedConfig) {}
}

@Injectable()
class UsesExample {
  constructor(readonly config: ExampleConfig) {}
}

// A feature module that does not import ConfigModule: the config reaches it because it is global.
@Module({ providers: [UsesShared, UsesExample] })
class FeatureModule {}

describe('ConfigModule.forApp', () => {
  it("reads the config when the Nest module is created, and gives it as the app's class and as SharedConfig", async () => {
    let reads = 0;
    const definition = ConfigModule.forApp(ExampleConfig, () => {
      reads++;
      return readExample();
    });
    expect(reads).toBe(0);
    const moduleRef = await Test.createTestingModule({ imports: [definition, FeatureModule] }).compile();
    expect(reads).toBe(1);
    const example = moduleRef.get(UsesExample).config;
    expect(example.port).toBe(1234);
    expect(moduleRef.get(UsesShared).config).toBe(example);
    await moduleRef.close();
  });

  it('lets a test replace the config, and the shared alias follows', async () => {
    const replaced = { ...readExample(), port: 9, databaseUrl: 'postgres://elsewhere/db' };
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule.forApp(ExampleConfig, () => readExample()), FeatureModule] })
      .overrideProvider(ExampleConfig)
      .useValue(replaced)
      .compile();
    expect(moduleRef.get(UsesExample).config).toBe(replaced);
    expect(moduleRef.get(UsesShared).config.databaseUrl).toBe('postgres://elsewhere/db');
    await moduleRef.close();
  });

  it('refuses a prefix other than the one the subjects were built with', async () => {
    const other = `${SUBJECTS_PREFIX}x`;
    const creating = Test.createTestingModule({
      imports: [ConfigModule.forApp(ExampleConfig, () => readExample({ PLEXUS_NATS_PREFIX: other })), FeatureModule],
    }).compile();
    await expect(creating).rejects.toThrow(ConfigError);
    await expect(creating).rejects.toThrow(`PLEXUS_NATS_PREFIX is "${other}" but the NATS subjects were built for "${SUBJECTS_PREFIX}"`);
  });

  it('stops creation with the ConfigError naming the bad variable', async () => {
    const creating = Test.createTestingModule({
      imports: [ConfigModule.forApp(ExampleConfig, () => readExample({ PLEXUS_STREAM_REPLICAS: 'three' })), FeatureModule],
    }).compile();
    await expect(creating).rejects.toThrow('PLEXUS_STREAM_REPLICAS must be a whole number from 1 to 5, got "three"');
  });
});
