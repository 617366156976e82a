/**
 * The ceiling: the least a relay of this protocol must do, in one process. A `ws` server where
 * devices authenticate (`device_auth` → `authenticated`, no credential check) and browsers
 * (`browser_auth` → `init`); every device frame is parsed, given its `source_id` and stringified
 * again (what any relay that adds the sender must do) and sent to every browser. No NATS, no
 * second instance, no limits: what Plexus's figures are compared with.
 */
import { type AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { serve } from './ipc.js';

const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
const browsers = new Set<WebSocket>();

server.on('connection', (ws) => {
  let sourceId: string | undefined;
  let browser = false;
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Record<string, unknown>;
    if (sourceId !== undefined) {
      frame.source_id = sourceId;
      const text = JSON.stringify(frame);
      for (const to of browsers) to.send(text);
    } else if (!browser && frame.type === 'device_auth') {
      sourceId = String(frame.source_id);
      ws.send(JSON.stringify({ type: 'authenticated', source_id: sourceId }));
    } else if (!browser && frame.type === 'browser_auth') {
      browser = true;
      browsers.add(ws);
      ws.send(JSON.stringify({ type: 'init', org_id: 'relay', online_sources: [] }));
    }
  });
  ws.on('close', () => browsers.delete(ws));
  ws.on('error', () => undefined);
});

const listening = new Promise<number>((resolve) => server.once('listening', () => resolve((server.address() as AddressInfo).port)));
serve(async () => listening);
