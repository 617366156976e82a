import { configPath, effectiveConfig } from '../config.js';
import { CliError, EXIT } from './cli-error.js';
import { requestJson } from './http.js';

const mask = (secret: string) => `${secret.slice(0, secret.indexOf('_') + 5)}…`;

/** `plexus status`: what this device is, and whether the platform accepts it. */
export async function status(log: (line: string) => void): Promise<void> {
  const config = await effectiveConfig();
  log(`config      ${configPath()}`);
  log(`endpoint    ${config.endpoint}`);
  log(`websocket   ${config.ws_url ?? '(asked from the server at run time)'}`);
  log(
    `source      ${config.source_id ?? '(not set)'}${config.source_name ? ` "${config.source_name}"` : ''}${config.org_id ? ` in org ${config.org_id}` : ''}`,
  );
  log(
    `credential  ${config.device_token ? `device token ${mask(config.device_token)}` : config.api_key ? `API key ${mask(config.api_key)}` : 'none'}`,
  );
  const server = await requestJson(`${config.endpoint}/api/config`);
  log(`server      reachable, version ${String(server.body.version ?? '?')}`);
  if (!config.device_token && !config.api_key) throw new CliError('not paired: run "plexus pair --code ABC123"', EXIT.notPaired);
  if (config.device_token) {
    const verified = await requestJson(`${config.endpoint}/api/auth/verify-device`, {
      method: 'POST',
      body: { device_token: config.device_token },
    });
    if (verified.status !== 200) throw new CliError('the server does not accept this device token: pair the device again', EXIT.refused);
    log(`paired      yes, as ${String(verified.body.source_id)}`);
  } else {
    const verified = await requestJson(`${config.endpoint}/api/auth/verify-key`, { headers: { 'x-api-key': config.api_key as string } });
    if (verified.status !== 200) throw new CliError('the server does not accept this API key', EXIT.refused);
    log(`api key     valid, scopes ${(verified.body.scopes as string[]).join(', ')}`);
  }
}
