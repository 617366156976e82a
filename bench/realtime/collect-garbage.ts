import { WebSocket } from 'ws';

/**
 * A full garbage collection in another Node process, so its memory says what it holds rather
 * than what it has not collected yet: SIGUSR1 opens Node's inspector (127.0.0.1:9229), and the
 * DevTools protocol asks for `HeapProfiler.collectGarbage`. The process answering there must say
 * it is `pid`, or nothing is done (another process may hold the port). Answers why not, if not.
 */
export async function collectGarbage(pid: number): Promise<string | undefined> {
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 5000;
  let url: string | undefined;
  while (!url && Date.now() < deadline) {
    try {
      const targets = (await (await fetch('http://127.0.0.1:9229/json/list')).json()) as Array<{ webSocketDebuggerUrl?: string }>;
      url = targets[0]?.webSocketDebuggerUrl;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (!url) return 'the inspector did not open on 127.0.0.1:9229';
  const ws = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let nextId = 0;
    const call = (method: string, params: object = {}) =>
      new Promise<{ result?: { result?: { value?: unknown } } }>((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => reject(new Error(`${method}: no answer within 30 s`)), 30_000);
        const onMessage = (data: unknown) => {
          const message = JSON.parse(String(data)) as { id?: number };
          if (message.id !== id) return;
          clearTimeout(timer);
          ws.off('message', onMessage);
          resolve(message as { result?: { result?: { value?: unknown } } });
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id, method, params }));
      });
    const answer = await call('Runtime.evaluate', { expression: 'process.pid', returnByValue: true });
    if (answer.result?.result?.value !== pid)
      return `the inspector on 127.0.0.1:9229 is another process's (pid ${String(answer.result?.result?.value)})`;
    await call('HeapProfiler.collectGarbage');
    return undefined;
  } catch (error) {
    return `inspector: ${(error as Error).message}`;
  } finally {
    ws.close();
  }
}
