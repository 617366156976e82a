import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `~/.plexus/config.json`: the same keys as the Python agent writes, so either agent can read it. */
export interface AgentConfig {
  device_token?: string | null;
  api_key?: string | null;
  source_id?: string | null;
  org_id?: string | null;
  endpoint?: string | null;
  source_name?: string | null;
  ws_url?: string | null;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';

export function plexusDir(): string {
  return join(homedir(), '.plexus');
}

export function configPath(): string {
  return join(plexusDir(), 'config.json');
}

export async function loadConfig(): Promise<AgentConfig> {
  try {
    return JSON.parse(await readFile(configPath(), 'utf8')) as AgentConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${configPath()}: ${(error as Error).message}`, { cause: error });
  }
}

/** Written atomically and readable by its owner only: it holds the device token. */
export async function saveConfig(config: AgentConfig): Promise<void> {
  await mkdir(plexusDir(), { recursive: true, mode: 0o700 });
  const temporary = `${configPath()}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, configPath());
}

/** The file, with PLEXUS_ENDPOINT, PLEXUS_WS_URL, PLEXUS_DEVICE_TOKEN, PLEXUS_API_KEY, PLEXUS_ORG_ID on top. */
export async function effectiveConfig(env: NodeJS.ProcessEnv = process.env): Promise<AgentConfig & { endpoint: string }> {
  const file = await loadConfig();
  return {
    ...file,
    endpoint: (env.PLEXUS_ENDPOINT || file.endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    ws_url: env.PLEXUS_WS_URL || file.ws_url || null,
    device_token: env.PLEXUS_DEVICE_TOKEN || file.device_token || null,
    api_key: env.PLEXUS_API_KEY || file.api_key || null,
    org_id: env.PLEXUS_ORG_ID || file.org_id || null,
  };
}
