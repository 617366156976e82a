import type { PlatformConfig, VerifiedKey } from './types.js';
import type { SignedIn } from './context.js';

/** An HTTP API failure with a sentence a person can act on (status 0: the server was not reached). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const REVOKED_MESSAGE = 'Your API key is no longer accepted: it was revoked or deleted. Sign in with another key.';

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, 'Cannot reach the Plexus server. Check your connection and that the gateway is running.');
  }
}

async function failure(response: Response): Promise<ApiError> {
  let message = '';
  try {
    message = String(((await response.json()) as { message?: unknown }).message ?? '');
  } catch {
    // Not JSON: fall back to the status.
  }
  switch (response.status) {
    case 401:
      return new ApiError(401, message || 'The API key was not accepted.');
    case 403:
      return new ApiError(403, `Not allowed: ${message || 'this API key lacks the scope this needs'}.`);
    case 429:
      return new ApiError(429, `Too many requests; try again in ${response.headers.get('retry-after') ?? 'a few'} s.`);
    case 503:
      return new ApiError(503, 'The server is briefly unavailable (its database or broker is away). Try again in a moment.');
    default:
      return new ApiError(response.status, message || `The server answered ${response.status}.`);
  }
}

/** Calls the gateway with the signed-in key; a 401 signs the person out with a reason. */
export class Api {
  constructor(
    readonly key: string,
    private readonly onRevoked: (message: string) => void,
  ) {}

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>(withQuery(path, query), { method: 'GET' });
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.json<T>(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>(path, { method: 'PATCH', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>(path, { method: 'DELETE' });
  }

  /** A download that needs the key header (a plain link cannot send it). */
  async blob(path: string, query?: Query): Promise<Blob> {
    return (await this.call(withQuery(path, query), { method: 'GET' })).blob();
  }

  private async json<T>(path: string, init: RequestInit): Promise<T> {
    return (await (await this.call(path, init)).json()) as T;
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    const response = await send(path, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-api-key': this.key } });
    if (response.ok) return response;
    const error = await failure(response);
    if (error.status === 401) this.onRevoked(REVOKED_MESSAGE);
    throw error;
  }
}

/** The signed-in state for a key the gateway verified. */
export function signedIn(key: string, verified: VerifiedKey): SignedIn {
  return { key, org_id: verified.org_id, org_name: verified.org_name, key_id: verified.key_id, scopes: verified.scopes };
}

export async function verifyKey(key: string): Promise<VerifiedKey> {
  const response = await send('/api/auth/verify-key', { headers: { 'x-api-key': key } });
  if (response.status === 401) throw new ApiError(401, 'This API key was not accepted: it is unknown or has been revoked.');
  if (!response.ok) throw await failure(response);
  return (await response.json()) as VerifiedKey;
}

export async function fetchConfig(): Promise<PlatformConfig> {
  const response = await send('/api/config', {});
  if (!response.ok) throw await failure(response);
  return (await response.json()) as PlatformConfig;
}

/** Saves a Blob as a file through a temporary object URL. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
