/**
 * Reading configuration from the environment, validated once at start.
 * Each app's `config.ts` builds its config from these readers; a bad value stops
 * the app with a message naming the variable.
 */
export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export function readString(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

export function readOptionalString(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

export function readInt(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function readUrl(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = readString(env, name, fallback);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${url.protocol}"`);
  }
  return raw;
}

export function readPattern(env: Env, name: string, fallback: string, pattern: RegExp, what: string): string {
  const raw = readString(env, name, fallback);
  if (!pattern.test(raw)) throw new ConfigError(`${name} must be ${what}, got "${raw}"`);
  return raw;
}
