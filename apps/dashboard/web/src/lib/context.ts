import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { AlertsStore } from './alerts.js';
import type { Api } from './api.js';
import type { Realtime } from './realtime.js';
import type { Frame, PlatformConfig, Scope } from './types.js';

export interface SignedIn {
  key: string;
  org_id: string;
  org_name: string;
  key_id: string;
  scopes: Scope[];
}

export interface AppServices {
  api: Api;
  rt: Realtime;
  /** The org's alert rules and firing count (lib/alerts.ts). */
  alerts: AlertsStore;
  auth: SignedIn;
  config: PlatformConfig;
  signOut(message?: string): void;
}

export const AppContext = createContext<AppServices | null>(null);

export function useApp(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('useApp outside the signed-in app');
  return services;
}

/** `admin` holds every scope (docs/api.md). */
export function hasScope(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes('admin') || scopes.includes(needed);
}

export function useScope(needed: Scope): boolean {
  return hasScope(useApp().auth.scopes, needed);
}

/** Re-renders when the socket's state or the set of online sources changes. */
export function useRealtimeState(): Realtime {
  const { rt } = useApp();
  const [, setChanges] = useState(0);
  useEffect(() => rt.watch(() => setChanges((n) => n + 1)), [rt]);
  return rt;
}

/** Calls `listener` with every realtime frame while the component is mounted (the latest listener). */
export function useFrames(listener: (frame: Frame) => void): void {
  const { rt } = useApp();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => rt.listen((frame) => latest.current(frame)), [rt]);
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Plexus` : 'Plexus';
  }, [title]);
}
