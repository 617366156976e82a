import { useEffect, useState } from 'preact/hooks';

/** The pages of the dashboard, matched against location.pathname. */
export type Route =
  | { page: 'fleet' }
  | { page: 'device'; sourceId: string }
  | { page: 'sessions' }
  | { page: 'session'; sessionId: string }
  | { page: 'explorer' }
  | { page: 'keys' }
  | { page: 'alerts' }
  | { page: 'not-found' };

export function parseRoute(pathname: string): Route {
  const parts = pathname
    .split('/')
    .filter(Boolean)
    .map((part) => decodeURIComponent(part));
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'fleet')) return { page: 'fleet' };
  if (parts[0] === 'devices' && parts.length === 2) return { page: 'device', sourceId: parts[1] };
  if (parts[0] === 'sessions' && parts.length === 1) return { page: 'sessions' };
  if (parts[0] === 'sessions' && parts.length === 2) return { page: 'session', sessionId: parts[1] };
  if (parts[0] === 'explorer' && parts.length === 1) return { page: 'explorer' };
  if (parts[0] === 'keys' && parts.length === 1) return { page: 'keys' };
  if (parts[0] === 'alerts' && parts.length === 1) return { page: 'alerts' };
  return { page: 'not-found' };
}

const NAVIGATED = 'plexus:navigated';

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** The current location, re-rendering on navigation (links, back/forward). */
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: location.pathname, search: location.search });
  const [current, setCurrent] = useState(read);
  useEffect(() => {
    const update = () => setCurrent(read());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return current;
}

/** Same-origin links navigate in place; modified clicks (new tab) keep the browser's behaviour. */
export function interceptLinks(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest?.('a');
    if (!link || link.target || link.hasAttribute('download')) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    event.preventDefault();
    if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
  });
}

export const devicePath = (sourceId: string) => `/devices/${encodeURIComponent(sourceId)}`;
export const sessionPath = (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}`;
