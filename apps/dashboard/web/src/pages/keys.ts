import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../lib/api.js';
import { useApp, useScope, useTitle } from '../lib/context.js';
import { dateTime, relativeTime } from '../lib/format.js';
import { html } from '../lib/html.js';
import { type ApiKey, type Scope, SCOPES } from '../lib/types.js';
import { CopyButton, EmptyState, ErrorNotice, Loading, Notice, useLoad } from '../lib/ui.js';

const SCOPE_HELP: Record<Scope, string> = {
  read: 'queries, lists, live view',
  write: 'ingest points, create sessions',
  control: 'streams, recordings, sensor rates',
  admin: 'everything: keys, pairing, terminal',
};

export function KeysPage() {
  useTitle('API keys');
  const { api, auth, signOut } = useApp();
  const isAdmin = useScope('admin');
  const keys = useLoad(
    () => (isAdmin ? api.get<{ keys: ApiKey[] }>('/api/keys').then((answer) => answer.keys) : Promise.resolve([])),
    [isAdmin],
  );
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['read']);
  const [created, setCreated] = useState<ApiKey & { key: string }>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string>();
  const [revokeError, setRevokeError] = useState<unknown>();
  const createdBox = useRef<HTMLDivElement>(null);

  useEffect(() => createdBox.current?.focus(), [created]);

  if (!isAdmin) {
    return html`<section class="page"><h1 tabindex="-1">API keys</h1>
      <${Notice} kind="info">Managing API keys needs a key with the admin scope. You are signed in with a key that has: ${auth.scopes.join(', ')}.<//></section>`;
  }

  const create = async (event: Event) => {
    event.preventDefault();
    if (!name.trim()) return setError('Give the key a name, so you know later what uses it.');
    if (!scopes.length) return setError('Choose at least one scope.');
    setBusy(true);
    setError('');
    try {
      setCreated(await api.post<ApiKey & { key: string }>('/api/keys', { name: name.trim(), scopes }));
      setName('');
      keys.reload();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (key: ApiKey) => {
    setRevokeError(undefined);
    try {
      await api.delete(`/api/keys/${encodeURIComponent(key.id)}`);
      setConfirming(undefined);
      if (key.id === auth.key_id) signOut('You revoked the key you were signed in with. Sign in with another key.');
      else keys.reload();
    } catch (failure) {
      setRevokeError(failure);
    }
  };

  return html`<section class="page">
    <div class="page-head"><div><h1 tabindex="-1">API keys</h1><p class="muted">Keys for scripts, devices and people. A key is shown once, when it is created.</p></div></div>
    <form class="card panel" onSubmit=${create} aria-labelledby="new-key-title">
      <h2 id="new-key-title">New key</h2>
      <div class="field">
        <label for="key-name">Name</label>
        <input id="key-name" value=${name} maxlength="128" placeholder="e.g. test rig uploader" onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
      </div>
      <fieldset class="scopes">
        <legend>Scopes</legend>
        ${SCOPES.map(
          (scope) => html`<label class="check" key=${scope}>
          <input type="checkbox" name="scope" value=${scope} checked=${scopes.includes(scope)}
            onChange=${() => setScopes((current) => (current.includes(scope) ? current.filter((s) => s !== scope) : [...current, scope]))} />
          <span><strong>${scope}</strong> <span class="muted">— ${SCOPE_HELP[scope]}</span></span>
        </label>`,
        )}
      </fieldset>
      ${error ? html`<${Notice} kind="error">${error}<//>` : null}
      <button type="submit" class="button button-primary" disabled=${busy}>${busy ? 'Creating…' : 'Create key'}</button>
    </form>
    ${
      created
        ? html`<div class="card panel created-key" ref=${createdBox} tabindex="-1" role="region" aria-labelledby="created-title">
          <h2 id="created-title">Key "${created.name}" created</h2>
          <p>Copy it now: it is not shown again.</p>
          <div class="command-row">
            <code class="command-text" id="created-key" data-created-key=${created.key}>${created.key}</code>
            <${CopyButton} text=${created.key} label="Copy key" />
          </div>
          <button type="button" class="button button-small button-quiet" onClick=${() => setCreated(undefined)}>I have saved it</button>
        </div>`
        : null
    }
    <${ErrorNotice} error=${keys.error || revokeError} />
    ${keys.loading && !keys.data ? html`<${Loading} what="Loading keys" />` : null}
    ${keys.data && keys.data.length === 0 ? html`<${EmptyState} title="No keys"><p>Create one above.</p><//>` : null}
    ${
      keys.data?.length
        ? html`<div class="table-wrap"><table class="table">
          <caption class="visually-hidden">API keys of this org</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${keys.data.map(
              (key) => html`<tr key=${key.id} data-key-id=${key.id} data-key-name=${key.name}>
              <td>${key.name}${key.id === auth.key_id ? html` <span class="pill pill-info">this browser</span>` : null}</td>
              <td><code>${key.prefix}…</code></td>
              <td>${key.scopes.join(', ')}</td>
              <td>${dateTime(key.created_at)}</td>
              <td>${key.last_used_at ? relativeTime(key.last_used_at) : 'never'}</td>
              <td class="cell-actions">
                ${
                  confirming === key.id
                    ? html`<span class="confirm">
                      <button type="button" class="button button-small button-danger" onClick=${() => revoke(key)}>Confirm revoke</button>
                      <button type="button" class="button button-small button-quiet" onClick=${() => setConfirming(undefined)}>Keep</button>
                    </span>`
                    : html`<button type="button" class="button button-small" onClick=${() => setConfirming(key.id)} aria-label=${`Revoke key ${key.name}`}>Revoke</button>`
                }
              </td>
            </tr>`,
            )}
          </tbody>
        </table></div>`
        : null
    }
  </section>`;
}
