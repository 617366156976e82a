import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, fetchConfig, signedIn, verifyKey } from '../lib/api.js';
import type { SignedIn } from '../lib/context.js';
import { html } from '../lib/html.js';
import type { PlatformConfig } from '../lib/types.js';
import { Notice } from '../lib/ui.js';

export function SignInPage({
  notice,
  onSignIn,
}: {
  notice?: string;
  onSignIn: (key: string, auth: SignedIn, config: PlatformConfig) => void;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in · Plexus';
    input.current?.focus();
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!/^plx_[A-Za-z0-9]{20,}$/.test(trimmed)) {
      setError('An API key starts with plx_ followed by letters and digits. Check that you pasted all of it.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const [verified, config] = await Promise.all([verifyKey(trimmed), fetchConfig()]);
      onSignIn(trimmed, signedIn(trimmed, verified), config);
    } catch (failure) {
      setError(errorText(failure));
      setBusy(false);
    }
  };

  return html`<main class="signin" id="main">
    <div class="card narrow">
      <div class="signin-brand">
        <svg viewBox="0 0 32 32" width="40" height="40" aria-hidden="true"><rect width="32" height="32" rx="7" fill="#0b5cad" /><path d="M6 20h5l3-9 4 14 3-8h5" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round" /></svg>
        <h1>Sign in to Plexus</h1>
      </div>
      ${notice ? html`<${Notice} kind=${/signed out/i.test(notice) ? 'info' : 'warning'}>${notice}<//>` : null}
      <form onSubmit=${submit} class="stack" novalidate>
        <div class="field">
          <label for="api-key">API key</label>
          <input id="api-key" ref=${input} name="api-key" type="password" autocomplete="off" spellcheck=${false} placeholder="plx_…" value=${key}
            onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} aria-describedby="api-key-help" aria-invalid=${error ? 'true' : undefined} />
          <p class="help" id="api-key-help">
            The admin key is printed once in the pairing app's log on first start (or set with PLEXUS_BOOTSTRAP_ADMIN_KEY). It stays in this
            browser until you sign out.
          </p>
        </div>
        ${error ? html`<${Notice} kind="error">${error}<//>` : null}
        <button type="submit" class="button button-primary" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </div>
  </main>`;
}
