import { useEffect, useRef, useState } from 'preact/hooks';
import { useApp, useFrames, useScope } from '../lib/context.js';
import { html } from '../lib/html.js';
import { randomId } from '../lib/realtime.js';
import type { Source } from '../lib/types.js';

const MAX_LINES = 2000;

interface Line {
  kind: 'command' | 'out' | 'status' | 'error';
  text: string;
}

/** Runs a shell command on the device (`execute`), streams its `output`, and can `cancel` it. Admin keys only. */
export function TerminalPanel({ source, online }: { source: Source; online: boolean }) {
  const { rt, auth } = useApp();
  const isAdmin = useScope('admin');
  const sourceId = source.source_id;
  const [command, setCommand] = useState('');
  const [running, setRunningState] = useState<string>();
  // Output can arrive before the next render: the id the frames are matched against is kept here at once.
  const runningRef = useRef<string>();
  const setRunning = (id: string | undefined) => {
    runningRef.current = id;
    setRunningState(id);
  };
  const [lines, setLines] = useState<Line[]>([]);
  const output = useRef<HTMLPreElement>(null);

  const add = (line: Line) =>
    setLines((previous) => (previous.length >= MAX_LINES ? [...previous.slice(-MAX_LINES + 1), line] : [...previous, line]));

  useFrames((frame) => {
    if (
      !('source_id' in frame) ||
      frame.source_id !== sourceId ||
      !runningRef.current ||
      !('id' in frame) ||
      frame.id !== runningRef.current
    )
      return;
    if (frame.type === 'output') {
      if (frame.event === 'data') add({ kind: 'out', text: String(frame.data ?? '') });
      else if (frame.event === 'exit') {
        add({ kind: 'status', text: `exited with code ${String(frame.code)}` });
        setRunning(undefined);
      } else if (frame.event === 'error') {
        add({ kind: 'error', text: String(frame.error ?? 'the command failed') });
        setRunning(undefined);
      }
    } else if (frame.type === 'error') {
      const code = 'code' in frame ? frame.code : undefined;
      add({ kind: 'error', text: code === 'DEVICE_OFFLINE' ? 'The device is offline.' : String(frame.message ?? code) });
      setRunning(undefined);
    }
  });

  useEffect(() => {
    const element = output.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [lines]);

  const run = (event: Event) => {
    event.preventDefault();
    const text = command.trim();
    if (!text || running) return;
    const id = randomId('cmd');
    if (!rt.send({ type: 'execute', source_id: sourceId, id, command: text })) {
      add({ kind: 'error', text: 'Not connected to the realtime server; try again in a moment.' });
      return;
    }
    add({ kind: 'command', text: `$ ${text}` });
    setRunning(id);
    setCommand('');
  };
  const cancel = () => {
    if (!running) return;
    rt.send({ type: 'cancel', source_id: sourceId, id: running });
    add({ kind: 'status', text: 'cancel requested' });
  };

  const why = !isAdmin
    ? `The terminal runs shell commands on the device, so it needs an API key with the admin scope. This key has: ${auth.scopes.join(', ') || 'no scopes'}.`
    : !online
      ? 'The device is offline.'
      : '';

  return html`<section class="card panel" aria-labelledby="terminal-title">
    <div class="panel-head">
      <h2 id="terminal-title">Terminal</h2>
      <span class="muted small">Admin keys only · every command is written to the audit log</span>
    </div>
    <pre class="terminal" ref=${output} role="log" aria-live="polite" aria-label="Terminal output" tabindex="0" data-terminal-output
      >${
        lines.length
          ? lines.map((line) => html`<span class=${`term-line term-${line.kind}`}>${line.text}</span>`)
          : html`<span class="term-line term-status">${why ? 'The terminal is not available (see below).' : 'Run a command to see its output here.'}</span>`
      }</pre>
    <form class="terminal-input" onSubmit=${run}>
      <label for="terminal-command">Command</label>
      <input id="terminal-command" value=${command} autocomplete="off" spellcheck=${false} placeholder=${isAdmin ? 'e.g. uptime' : 'admin scope needed'}
        onInput=${(e: Event) => setCommand((e.target as HTMLInputElement).value)} disabled=${Boolean(why)} aria-describedby="terminal-why" />
      <button type="submit" class="button button-primary" disabled=${Boolean(why) || Boolean(running) || !command.trim()}>Run</button>
      <button type="button" class="button" onClick=${cancel} disabled=${!running}>Cancel</button>
    </form>
    <p class="help" id="terminal-why">${why}</p>
  </section>`;
}
