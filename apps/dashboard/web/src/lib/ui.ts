import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'error' | 'success' | 'warning'; children: ComponentChildren }) {
  return html`<div class=${`notice notice-${kind}`} role=${kind === 'error' ? 'alert' : 'status'}>${children}</div>`;
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  return html`<${Notice} kind="error">${error instanceof Error ? error.message : String(error)}<//>`;
}

export function EmptyState({ title, children }: { title: string; children?: ComponentChildren }) {
  return html`<div class="empty"><h3>${title}</h3>${children}</div>`;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${what}…</p>`;
}

export function StatusPill({ online }: { online: boolean }) {
  return html`<span class=${`pill ${online ? 'pill-online' : 'pill-offline'}`}><span class="dot" aria-hidden="true"></span>${online ? 'Online' : 'Offline'}</span>`;
}

export function SessionStatusPill({ status }: { status: string }) {
  return html`<span class=${`pill pill-${status}`}>${status === 'active' ? 'Recording' : status[0].toUpperCase() + status.slice(1)}</span>`;
}

/** Copies `text`; falls back to selecting a hidden field where the Clipboard API is unavailable (plain HTTP off localhost). */
export function CopyButton({ text, label = 'Copy', describedBy }: { text: string; label?: string; describedBy?: string }) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const field = document.createElement('textarea');
      field.value = text;
      field.setAttribute('readonly', '');
      field.style.position = 'fixed';
      field.style.opacity = '0';
      document.body.append(field);
      field.select();
      document.execCommand('copy');
      field.remove();
    }
    setCopied(true);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied(false), 2000);
  };
  return html`<button type="button" class="button button-small" onClick=${copy} aria-describedby=${describedBy}>
    ${copied ? 'Copied' : label}
  </button>`;
}

/** A command line to paste, with its copy button. */
export function CommandLine({ id, label, command }: { id: string; label: string; command: string }) {
  return html`<div class="command">
    <span class="command-label" id=${`${id}-label`}>${label}</span>
    <div class="command-row">
      <code id=${id} class="command-text">${command}</code>
      <${CopyButton} text=${command} label="Copy" describedBy=${`${id}-label`} />
    </div>
  </div>`;
}

/** Re-renders every `ms` milliseconds (countdowns, "3 min ago"). */
export function useTicker(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** Runs an async load, with its result, error and a reload. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => current && setState((previous) => ({ data: previous.data, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [...deps, version]);
  return { ...state, reload: () => setVersion((v) => v + 1) };
}
