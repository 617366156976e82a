/** API key scopes. `admin` grants everything. */
export const SCOPES = ['write', 'read', 'control', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function hasScope(granted: readonly string[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}
