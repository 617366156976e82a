import { readFileSync } from 'node:fs';
import { credsAuthenticator, type NodeConnectionOptions, nkeyAuthenticator } from '@nats-io/transport-node';
import type { NatsSettings } from '../config/nats-config.js';

/**
 * The options of every NATS connection an app opens — the raw BrokerConnection, the Nest RPC
 * client and the Nest microservice alike — so none of them can be left without credentials or TLS.
 * Nest's NATS transport hands its `options` to `connect()` of @nats-io/transport-node as they are.
 */
export function natsConnectionOptions(settings: NatsSettings, name: string): NodeConnectionOptions {
  const options: NodeConnectionOptions = { servers: settings.servers, name };
  const { auth } = settings;
  if (auth.kind === 'user') Object.assign(options, { user: auth.user, pass: auth.pass });
  else if (auth.kind === 'token') options.token = auth.token;
  // Read again at every (re)connect, so a rotated credentials file is picked up without a restart.
  else if (auth.kind === 'creds') options.authenticator = credsAuthenticator(() => readFileSync(auth.credsFile));
  else if (auth.kind === 'nkey') options.authenticator = nkeyAuthenticator(new TextEncoder().encode(auth.seed));
  if (settings.tls) options.tls = { ...settings.tls };
  return options;
}
