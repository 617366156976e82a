import { type as osType } from 'node:os';
import { configPath, DEFAULT_ENDPOINT, loadConfig, saveConfig } from '../config.js';
import { CliError, EXIT } from './cli-error.js';
import { requestJson } from './http.js';

const LOOPBACK = /^(127\.|localhost$|\[?::1\]?$)/;

/**
 * The ws_url the server hands out comes from its PUBLIC_URL; when that names a loopback
 * address but this device reached the server elsewhere, use the host it reached instead.
 */
export function reachableWsUrl(wsUrl: string, endpoint: string): string {
  const ws = new URL(wsUrl);
  const http = new URL(endpoint);
  if (LOOPBACK.test(ws.hostname) && !LOOPBACK.test(http.hostname)) ws.hostname = http.hostname;
  return ws.toString().replace(/\/+$/, '');
}

export async function pair(options: { code: string; endpoint?: string; name?: string }, log: (line: string) => void): Promise<void> {
  const code = options.code.toUpperCase().trim();
  if (!/^[A-Z0-9]{6}$/.test(code))
    throw new CliError(`"${options.code}" is not a pairing code: it has 6 letters and digits, like ABC123`, EXIT.usage);
  const existing = await loadConfig();
  const endpoint = (options.endpoint || process.env.PLEXUS_ENDPOINT || existing.endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  const { status, body, headers } = await requestJson(`${endpoint}/api/sources/pair/complete`, {
    method: 'POST',
    body: { code, ...(options.name ? { name: options.name } : {}), platform: osType() },
  });
  if (status === 404) throw new CliError(`pairing code ${code} not found: check it, or create a new one in the dashboard`, EXIT.refused);
  if (status === 410)
    throw new CliError(
      `pairing code ${code} cannot be used: ${String(body.message ?? 'expired or already used')}; create a new one`,
      EXIT.refused,
    );
  if (status === 429)
    throw new CliError(`too many wrong codes from this address; try again in ${headers.get('retry-after') ?? 'a few'} s`, EXIT.refused);
  if (status !== 200) throw new CliError(`pairing failed (${status}): ${String(body.message ?? 'unexpected answer')}`, EXIT.refused);
  const wsUrl = typeof body.ws_url === 'string' ? reachableWsUrl(body.ws_url, endpoint) : null;
  await saveConfig({
    ...existing,
    device_token: String(body.device_token),
    source_id: String(body.source_id),
    org_id: String(body.org_id),
    source_name: String(body.source_name),
    endpoint,
    ws_url: wsUrl,
  });
  log(`Paired as "${String(body.source_name)}" (${String(body.source_id)}). Credentials saved to ${configPath()}.`);
  log('Next: plexus run');
}
