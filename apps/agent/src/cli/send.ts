import { hostname } from 'node:os';
import { effectiveConfig } from '../config.js';
import { Plexus } from '../sdk/client.js';
import { CliError, EXIT } from './cli-error.js';

/** "72.5" → 72.5, "true" → true, '{"x":1}' → object, anything else stays text. */
export function parseValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export function parseTags(pairs: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new CliError(`tag "${pair}" must look like key=value`, EXIT.usage);
    tags[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return tags;
}

/** `plexus send METRIC VALUE [-t key=value]`: one point over HTTP with an API key. */
export async function send(metric: string, value: string, options: { tag: string[] }, log: (line: string) => void): Promise<void> {
  const config = await effectiveConfig();
  if (!config.api_key)
    throw new CliError('plexus send needs an API key: set PLEXUS_API_KEY (or "api_key" in ~/.plexus/config.json)', EXIT.notPaired);
  const sourceId =
    config.source_id ||
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-');
  const plexus = new Plexus({ apiKey: config.api_key, sourceId, endpoint: config.endpoint, retry: { maxRetries: 3 } });
  try {
    await plexus.sendBatch([{ metric, value: parseValue(value) as never, tags: parseTags(options.tag) }]);
  } catch (error) {
    throw new CliError(`not sent: ${(error as Error).message}`, EXIT.refused);
  } finally {
    await plexus.close().catch(() => undefined);
  }
  log(`sent ${metric} from ${sourceId}`);
}
