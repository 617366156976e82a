import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AlertsStore, useAlerts } from './lib/alerts.js';
import { Api, errorText, fetchConfig, REVOKED_MESSAGE, signedIn, verifyKey } from './lib/api.js';
import { AppContext, type AppServices, hasScope, type SignedIn, useApp, useRealtimeState } from './lib/context.js';
import { html } from './lib/html.js';
import { Realtime, realtimeUrl } from './lib/realtime.js';
import { parseRoute, useLocation } from './lib/router.js';
import type { PlatformConfig } from './lib/types.js';
import { Loading, Notice } from './lib/ui.js';
import { AlertsPage } from './pages/alerts.js';
import { DevicePage } from './pages/device.js';
import { ExplorerPage } from './pages/explorer.js';
import { FleetPage } from './pages/fleet.js';
import { KeysPage } from './pages/keys.js';
import { SessionPage } from './pages/session.js';
import { SessionsPage } from './pages/sessions.js';
import { SignInPage } from './pages/signin.js';

const KEY_STORAGE = 'plexus.apiKey';

type Boot =
  | { phase: 'checking' }
  | { phase: 'signed-out'; notice?: string }
  | { phase: 'unreachable'; message: string }
  | { phase: 'signed-in'; auth: SignedIn; config: PlatformConfig };

/** Signs in with a stored key (or asks for one), then runs the signed-in dashboard. */
export function App() {
  const [boot, setBoot] = useState<Boot>({ phase: 'checking' });

  const start = async (key: string, notice?: string) => {
    try {
      const [verified, config] = await Promise.all([verifyKey(key), fetchConfig()]);
      localStorage.setItem(KEY_STORAGE, key);
      setBoot({ phase: 'signed-in', auth: signedIn(key, verified), config });
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 401) {
        localStorage.removeItem(KEY_STORAGE);
        setBoot({ phase: 'signed-out', notice: notice ?? REVOKED_MESSAGE });
      } else if (status === 0) setBoot({ phase: 'unreachable', message: errorText(error) });
      else setBoot({ phase: 'signed-out', notice: errorText(error) });
    }
  };

  useEffect(() => {
    const key = localStorage.getItem(KEY_STORAGE);
    if (key) void start(key, 'Your saved API key is no longer accepted: it was revoked or deleted. Sign in with another key.');
    else setBoot({ phase: 'signed-out' });
  }, []);

  const signOut = (notice?: string) => {
    localStorage.removeItem(KEY_STORAGE);
    setBoot({ phase: 'signed-out', notice });
  };

  switch (boot.phase) {
    case 'checking':
      return html`<main class="centered"><${Loading} what="Signing in" /></main>`;
    case 'unreachable':
      return html`<main class="centered">
        <div class="card narrow">
          <h1>Plexus is unreachable</h1>
          <${Notice} kind="error">${boot.message}<//>
          <button class="button button-primary" type="button" onClick=${() => location.reload()}>Try again</button>
        </div>
      </main>`;
    case 'signed-out':
      return html`<${SignInPage} notice=${boot.notice} onSignIn=${async (key: string, verified: SignedIn, config: PlatformConfig) => {
        localStorage.setItem(KEY_STORAGE, key);
        setBoot({ phase: 'signed-in', auth: verified, config });
      }} />`;
    case 'signed-in':
      return html`<${SignedInApp} key=${boot.auth.key} auth=${boot.auth} config=${boot.config} signOut=${signOut} />`;
  }
}

function SignedInApp({ auth, config, signOut }: { auth: SignedIn; config: PlatformConfig; signOut: (notice?: string) => void }) {
  const signOutRef = useRef(signOut);
  signOutRef.current = signOut;
  const services = useMemo<AppServices>(() => {
    const api = new Api(auth.key, (message) => signOutRef.current(message));
    const rt = new Realtime(realtimeUrl(config.ws_url), auth.key, () => {
      // Refused: a revoked key signs the person out; a key without the read scope only loses the live view.
      verifyKey(auth.key).then(
        () => undefined,
        (error: unknown) => {
          if ((error as { status?: number }).status === 401) signOutRef.current(REVOKED_MESSAGE);
        },
      );
    });
    const alerts = new AlertsStore(api, rt, hasScope(auth.scopes, 'read'));
    return { api, rt, alerts, auth, config, signOut: (message?: string) => signOutRef.current(message) };
  }, [auth.key]);

  useEffect(() => {
    services.rt.start();
    services.alerts.start();
    return () => {
      services.alerts.stop();
      services.rt.stop();
    };
  }, [services]);

  return html`<${AppContext.Provider} value=${services}><${Shell} /><//>`;
}

const NAV = [
  { href: '/fleet', label: 'Fleet', pages: ['fleet', 'device'] },
  { href: '/sessions', label: 'Sessions', pages: ['sessions', 'session'] },
  { href: '/explorer', label: 'Explorer', pages: ['explorer'] },
  { href: '/alerts', label: 'Alerts', pages: ['alerts'] },
  { href: '/keys', label: 'API keys', pages: ['keys'] },
];

function Shell() {
  const { auth, signOut } = useApp();
  const rt = useRealtimeState();
  const { firing } = useAlerts();
  const { pathname } = useLocation();
  const route = parseRoute(pathname);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After navigating, move focus to the new page so keyboard and screen-reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    (main.current?.querySelector('h1') as HTMLElement | null)?.focus();
  }, [pathname]);

  const connection = {
    connecting: ['Connecting…', 'conn-pending'],
    live: ['Live', 'conn-live'],
    reconnecting: ['Reconnecting…', 'conn-pending'],
    refused: ['Live view unavailable', 'conn-refused'],
  }[rt.state];

  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="/fleet" aria-label="Plexus home">
        <svg viewBox="0 0 32 32" width="24" height="24" aria-hidden="true"><rect width="32" height="32" rx="7" fill="#fff" /><path d="M6 20h5l3-9 4 14 3-8h5" fill="none" stroke="#0b5cad" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round" /></svg>
        <span>Plexus</span>
      </a>
      <nav aria-label="Main" class="nav">
        ${NAV.map((item) => html`<a href=${item.href} class="nav-link" aria-current=${item.pages.includes(route.page) ? 'page' : undefined}>${item.label}</a>`)}
      </nav>
      <div class="account">
        ${
          firing === undefined
            ? null
            : html`<a href="/alerts" class=${`firing-count${firing ? ' firing-count-on' : ''}`} data-firing=${firing}>
                <span class="dot" aria-hidden="true"></span>${firing} <span class="visually-hidden">${firing === 1 ? 'alert' : 'alerts'}</span> firing</a>`
        }
        <span class=${`conn ${connection[1]}`} title=${rt.state === 'refused' ? rt.refusal : 'Realtime connection'} data-connection=${rt.state}>
          <span class="dot" aria-hidden="true"></span>${connection[0]}
        </span>
        <span class="org" title=${`Org id ${auth.org_id}; signed in with key ${auth.key.slice(0, 10)}… (${auth.scopes.join(', ')})`}>
          <span class="muted">Org</span> <strong data-org=${auth.org_id}>${auth.org_name}</strong>
        </span>
        <button type="button" class="button button-small button-quiet" onClick=${() => signOut('You signed out.')}>Sign out</button>
      </div>
    </header>
    <main id="main" ref=${main}>
      ${
        rt.state === 'refused'
          ? html`<${Notice} kind="warning">Live updates are off: ${rt.refusal} Devices' online state, streams and commands need a key with the read scope.<//>`
          : null
      }
      ${page(route)}
    </main>
  `;
}

function page(route: ReturnType<typeof parseRoute>) {
  switch (route.page) {
    case 'fleet':
      return html`<${FleetPage} />`;
    case 'device':
      return html`<${DevicePage} key=${route.sourceId} sourceId=${route.sourceId} />`;
    case 'sessions':
      return html`<${SessionsPage} />`;
    case 'session':
      return html`<${SessionPage} key=${route.sessionId} sessionId=${route.sessionId} />`;
    case 'explorer':
      return html`<${ExplorerPage} />`;
    case 'keys':
      return html`<${KeysPage} />`;
    case 'alerts':
      return html`<${AlertsPage} />`;
    default:
      return html`<section class="page"><h1 tabindex="-1">Page not found</h1><p>There is nothing at this address. Go to the <a href="/fleet">fleet</a>.</p></section>`;
  }
}
