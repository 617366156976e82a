import { useEffect, useState } from 'preact/hooks';
import { useApp, useTitle } from '../lib/context.js';
import { dateTime, duration } from '../lib/format.js';
import { html } from '../lib/html.js';
import { devicePath, navigate, sessionPath } from '../lib/router.js';
import { type Session, SESSION_STATUSES, type Source } from '../lib/types.js';
import { EmptyState, ErrorNotice, Loading, SessionStatusPill, useLoad } from '../lib/ui.js';

const PAGE = 50;

export function SessionsPage() {
  useTitle('Sessions');
  const { api } = useApp();
  const params = new URLSearchParams(location.search);
  const [sourceId, setSourceId] = useState(params.get('source') ?? '');
  const [status, setStatus] = useState(params.get('status') ?? '');
  const [pages, setPages] = useState<{ sessions: Session[]; next: string | null }>({ sessions: [], next: null });
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>();
  const sources = useLoad(() => api.get<{ sources: Source[] }>('/api/sources').then((answer) => answer.sources), []);
  const first = useLoad(
    () => api.get<{ sessions: Session[]; next_cursor: string | null }>('/api/sessions', { source_id: sourceId, status, limit: PAGE }),
    [sourceId, status],
  );

  useEffect(() => {
    if (first.data) setPages({ sessions: first.data.sessions, next: first.data.next_cursor });
  }, [first.data]);

  // The filters live in the address, so a filtered list can be shared and survives a reload.
  useEffect(() => {
    const query = new URLSearchParams();
    if (sourceId) query.set('source', sourceId);
    if (status) query.set('status', status);
    const search = query.toString() ? `?${query}` : '';
    if (search !== location.search) navigate(`/sessions${search}`, { replace: true });
  }, [sourceId, status]);

  const more = async () => {
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const next = await api.get<{ sessions: Session[]; next_cursor: string | null }>('/api/sessions', {
        source_id: sourceId,
        status,
        limit: PAGE,
        cursor: pages.next,
      });
      setPages((previous) => ({ sessions: [...previous.sessions, ...next.sessions], next: next.next_cursor }));
    } catch (error) {
      setMoreError(error);
    } finally {
      setLoadingMore(false);
    }
  };

  const names = new Map((sources.data ?? []).map((s) => [s.source_id, s.name]));
  const filtered = Boolean(sourceId || status);

  return html`<section class="page">
    <div class="page-head">
      <div>
        <h1 tabindex="-1">Sessions</h1>
        <p class="muted">Recorded runs: every point sent with a session id, kept durably.</p>
      </div>
    </div>
    <form class="toolbar filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field field-inline">
        <label for="filter-source">Device</label>
        <select id="filter-source" value=${sourceId} onChange=${(e: Event) => setSourceId((e.target as HTMLSelectElement).value)}>
          <option value="">All devices</option>
          ${(sources.data ?? []).map((s) => html`<option value=${s.source_id}>${s.name || s.source_id}</option>`)}
          ${sourceId && !names.has(sourceId) ? html`<option value=${sourceId}>${sourceId}</option>` : null}
        </select>
      </div>
      <div class="field field-inline">
        <label for="filter-status">Status</label>
        <select id="filter-status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">Any status</option>
          ${SESSION_STATUSES.map((s) => html`<option value=${s}>${s === 'active' ? 'recording' : s}</option>`)}
        </select>
      </div>
    </form>
    <${ErrorNotice} error=${first.error} />
    ${first.loading && !first.data ? html`<${Loading} what="Loading sessions" />` : null}
    ${
      first.data && pages.sessions.length === 0
        ? html`<${EmptyState} title=${filtered ? 'No sessions match these filters' : 'No sessions yet'}>
          ${
            filtered
              ? html`<p>Clear the filters to see every session.</p>`
              : html`<p>Open a device from the <a href="/fleet">fleet</a> and choose <strong>Start recording</strong>, or send points with a <code>session_id</code> over HTTP.</p>`
          }
        <//>`
        : null
    }
    ${
      pages.sessions.length
        ? html`<div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Sessions, newest first</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Duration</th></tr></thead>
            <tbody>
              ${pages.sessions.map(
                (session) => html`<tr key=${session.session_id} data-session=${session.session_id}>
                <td><a href=${sessionPath(session.session_id)}>${session.name}</a></td>
                <td><a href=${devicePath(session.source_id)}>${names.get(session.source_id) ?? session.source_id}</a></td>
                <td><${SessionStatusPill} status=${session.status} /></td>
                <td>${dateTime(session.started_at)}</td>
                <td>${session.ended_at ? duration(Date.parse(session.ended_at) - Date.parse(session.started_at)) : 'running'}</td>
              </tr>`,
              )}
            </tbody>
          </table>
        </div>`
        : null
    }
    <${ErrorNotice} error=${moreError} />
    ${pages.next ? html`<button type="button" class="button" onClick=${more} disabled=${loadingMore}>${loadingMore ? 'Loading…' : 'Load more'}</button>` : null}
  </section>`;
}
