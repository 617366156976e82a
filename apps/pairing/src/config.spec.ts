import { describe, expect, it } from '@jest/globals';
import { readPairingConfig } from './config.js';

const KEY = `plx_${'a1B2'.repeat(10)}`;

describe('readPairingConfig', () => {
  it('has the documented defaults: no admin key, no secret (both generated), org "default", codes valid 10 min', () => {
    const config = readPairingConfig({});
    expect(config).toMatchObject({ httpPort: 8083, bootstrapOrgName: 'default', pairingCodeTtlSeconds: 600 });
    expect(config.bootstrapAdminKey).toBeUndefined();
    expect(config.pairingSecret).toBeUndefined();
  });

  it('takes a well-formed admin key and secret, and a trimmed org name', () => {
    const secret = 's'.repeat(32);
    expect(
      readPairingConfig({ PLEXUS_BOOTSTRAP_ADMIN_KEY: KEY, PLEXUS_PAIRING_SECRET: secret, PLEXUS_BOOTSTRAP_ORG_NAME: ' Lab ' }),
    ).toMatchObject({
      bootstrapAdminKey: KEY,
      pairingSecret: secret,
      bootstrapOrgName: 'Lab',
    });
  });

  it('refuses a malformed admin key or a short secret without echoing either', () => {
    for (const key of [`${KEY}x`, KEY.slice(0, -1), ` ${KEY}`, `plx_${'é'.repeat(40)}`]) {
      expect(() => readPairingConfig({ PLEXUS_BOOTSTRAP_ADMIN_KEY: key })).toThrow(
        /^PLEXUS_BOOTSTRAP_ADMIN_KEY must be "plx_" followed by 40 letters or digits$/,
      );
    }
    for (const secret of ['s'.repeat(31), 's'.repeat(513)]) {
      expect(() => readPairingConfig({ PLEXUS_PAIRING_SECRET: secret })).toThrow(
        /^PLEXUS_PAIRING_SECRET must be 32 to 512 characters \(e\.g\. `openssl rand -hex 32`\)$/,
      );
    }
  });
});
