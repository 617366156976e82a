import { describe, expect, it } from '@jest/globals';
import { readGatewayConfig } from '../apps/gateway/src/config.js';
import { readIngestConfig } from '../apps/ingest/src/config.js';
import { readPairingConfig } from '../apps/pairing/src/config.js';
import { readRealtimeConfig } from '../apps/realtime/src/config.js';
import { type Variable, type VariableName, VARIABLES } from '../libs/common/src/config/variables.js';

// The readers listed for a variable in variables.ts are the apps that check it: each app's reader
// refuses a bad value of every variable tagged with its name, naming it.
const readers = { gateway: readGatewayConfig, ingest: readIngestConfig, pairing: readPairingConfig, realtime: readRealtimeConfig };

/** Checked by nats-config.ts with their own wording (files, pairs): nats-config.spec.ts covers them. */
const NATS_PAIRS_AND_FILES = new Set(['NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY']);

/** A value the variable's schema refuses, or undefined when any text is accepted. */
function badValue(name: VariableName, variable: Variable): string | undefined {
  if (variable.kind === 'integer' || variable.kind === 'url') return 'not valid';
  return variable.must === 'text' || NATS_PAIRS_AND_FILES.has(name) ? undefined : '\u0000 not valid \u0000'.repeat(50);
}

describe('variables.ts readers', () => {
  for (const [app, read] of Object.entries(readers)) {
    it(`${app} checks every variable tagged '${app}'`, () => {
      const tagged = (Object.entries(VARIABLES) as [VariableName, Variable][]).filter(([, variable]) =>
        variable.readers.includes(app as keyof typeof readers),
      );
      expect(tagged.length).toBeGreaterThan(5);
      for (const [name, variable] of tagged) {
        const bad = badValue(name, variable);
        if (bad === undefined) continue;
        expect(() => read({ [name]: bad })).toThrow(new RegExp(`^${name} must`, 'm'));
      }
    });
  }
});
