/**
 * `npm run ops -- <subject> '<json>'`: one request to a Plexus operations subject over NATS,
 * printing the reply. Uses the NATS settings and PLEXUS_NATS_PREFIX like the apps. Examples:
 *   npm run ops -- keys.create '{"org_id":"default","name":"ci","scopes":["write"]}'
 *   npm run ops -- orgs.create '{"id":"acme","name":"Acme"}'   (prints the org's first admin key, once)
 *   npm run ops -- orgs.list   (every org: it follows next_cursor page after page, scripts/ops-orgs-list.ts)
 */
import { connect } from '@nats-io/transport-node';
import { readNatsSettings } from '../libs/common/src/config/nats-config.js';
import { readNatsPrefix } from '../libs/common/src/config/shared-config.js';
import { natsConnectionOptions } from '../libs/common/src/nats/connection-options.js';
import { namedSubjects } from '../libs/common/src/subjects.js';
import { listEveryOrg } from './ops-orgs-list.js';

const [name, body = '{}'] = process.argv.slice(2);
if (!name) {
  console.error("usage: npm run ops -- <subject> '<json>'   (subjects: docs/operations.md)");
  process.exit(2);
}
// The apps' own subject factory and PLEXUS_NATS_PREFIX check: a name that is not one of the
// platform's subjects is refused here, not sent where nothing answers.
const subjects = namedSubjects(readNatsPrefix());
const subject = subjects.get(name);
if (subject === undefined) {
  console.error(`"${name}" is not a Plexus subject; one of: ${[...subjects.keys()].join(', ')}`);
  process.exit(2);
}
let parsed: unknown;
try {
  parsed = JSON.parse(body);
} catch {
  console.error(`the request must be JSON, got: ${body}`);
  process.exit(2);
}
// The apps' NATS settings (NATS_URL, NATS_USER/NATS_PASSWORD, NATS_CREDS, NATS_TLS_*…), checked the same way.
const nc = await connect(natsConnectionOptions(readNatsSettings(), 'plexus-ops'));
try {
  if (name === 'orgs.list') {
    // Every page, not the first: an operator with more than 1,000 orgs sees them all.
    const ask = async (request: unknown) =>
      (await nc.request(subject, JSON.stringify(request), { timeout: 5000 })).json<{ response?: unknown; err?: unknown }>();
    process.exitCode = await listEveryOrg(ask, parsed, {
      write: (text) => process.stdout.write(text),
      warn: (text) => console.error(text),
    });
  } else {
    await requestOnce(subject, body);
  }
} finally {
  await nc.close();
}

/** Any other subject: one request, its answer printed (an error to stderr, exit 1). */
async function requestOnce(subject: string, body: string): Promise<void> {
  try {
    const reply = await nc.request(subject, body, { timeout: 5000 });
    const packet = reply.json<{ response?: unknown; err?: unknown }>();
    if (packet.err !== undefined) {
      console.error(JSON.stringify(packet.err, null, 2));
      process.exitCode = 1;
    } else {
      console.log(JSON.stringify(packet.response, null, 2));
      // Keys are stored hashed: this output is the only place the plaintext ever appears.
      const shown = packet.response as { key?: unknown; admin_key?: unknown } | null;
      if (shown && (shown.key !== undefined || shown.admin_key !== undefined))
        console.error('The key above is shown once and cannot be read again: keep it now.');
    }
  } catch (error) {
    console.error(`no answer on ${subject}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
