import { describe, expect, it, jest } from '@jest/globals';
import { WebSocket } from 'ws';
import { ClientSocket } from './client-socket.js';

/** What ClientSocket uses of a `ws` socket, with a peer that reads nothing. */
function stuckSocket() {
  const sent: string[] = [];
  const closed: Array<{ code: number; reason: string }> = [];
  const ws = {
    readyState: WebSocket.OPEN as number,
    bufferedAmount: 0,
    on: () => undefined,
    send(data: string) {
      sent.push(data);
      this.bufferedAmount += data.length;
    },
    close(code: number, reason: string) {
      closed.push({ code, reason });
      this.readyState = WebSocket.CLOSING;
    },
  };
  return { ws, sent, closed };
}

const limits = { highWaterBytes: 1000, maxQueueBytes: 10_000, maxDroppable: 1000, stallMs: 60_000, telemetryMaxAgeMs: 60_000 };

describe('ClientSocket send queue', () => {
  it('drops live telemetry oldest-first to stay within its byte bound, without closing', () => {
    const { ws, closed } = stuckSocket();
    const socket = new ClientSocket(ws as unknown as WebSocket, limits);
    for (let i = 0; i < 1000; i++) socket.send(`t${String(i).padStart(999, '0')}`, true);
    expect(closed).toEqual([]);
    expect(socket.dropped).toBeGreaterThan(980);
    socket.close(1000, 'done');
  });

  it('closes with 4013 when a message that may not be dropped would pass the byte bound', () => {
    const { ws, closed } = stuckSocket();
    const socket = new ClientSocket(ws as unknown as WebSocket, limits);
    for (let i = 0; i < 100; i++) socket.send('o'.repeat(1000));
    expect(closed).toEqual([{ code: 4013, reason: 'send queue full' }]);
    expect(socket.open).toBe(false);
  });

  it('counts every byte: a huge error reply cannot slip past the bound', () => {
    const { ws, closed } = stuckSocket();
    const socket = new ClientSocket(ws as unknown as WebSocket, limits);
    socket.send('x'.repeat(2000));
    socket.error('BAD_REQUEST', 'y'.repeat(20_000));
    expect(closed[0]?.code).toBe(4013);
  });
});

describe('ClientSocket stall bound', () => {
  it('closes with 4013 a socket whose queue has not moved for stallMs, even below the byte bound', () => {
    jest.useFakeTimers();
    try {
      const { ws, closed } = stuckSocket();
      const socket = new ClientSocket(ws as unknown as WebSocket, { ...limits, stallMs: 1000 });
      socket.send('x'.repeat(1000));
      socket.send('control frame');
      jest.advanceTimersByTime(500);
      expect(closed).toEqual([]);
      jest.advanceTimersByTime(1000);
      expect(closed).toEqual([{ code: 4013, reason: 'send queue not draining' }]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('ClientSocket latency ceiling', () => {
  it('drops queued live telemetry older than the ceiling instead of sending it late, and tells the browser once', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const { ws, sent } = stuckSocket();
      const socket = new ClientSocket(ws as unknown as WebSocket, { ...limits, telemetryMaxAgeMs: 1000 });
      socket.reportsDrops = true;
      socket.send('x'.repeat(1000)); // fills the socket's own buffer: what follows waits in the queue
      socket.send('{"type":"telemetry","n":1}', true, Date.now());
      socket.send('{"type":"telemetry","n":2}', true, Date.now());
      jest.advanceTimersByTime(1500);
      socket.send('{"type":"telemetry","n":3}', true, Date.now());
      ws.bufferedAmount = 0; // the peer reads again
      jest.advanceTimersByTime(10);
      expect(sent.filter((data) => data.includes('"telemetry"'))).toEqual(['{"type":"telemetry","n":3}']);
      expect(socket.dropped).toBe(2);
      jest.advanceTimersByTime(1000);
      const reports = sent.filter((data) => data.includes('telemetry_dropped')).map((data) => JSON.parse(data) as unknown);
      expect(reports).toEqual([{ type: 'telemetry_dropped', count: 2, late: 2, overflow: 0 }]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports queue overflow drops at most once a second, and nothing when nothing was dropped', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const { ws, sent } = stuckSocket();
      const socket = new ClientSocket(ws as unknown as WebSocket, { ...limits, maxDroppable: 2 });
      socket.reportsDrops = true;
      socket.send('x'.repeat(1000));
      for (let i = 0; i < 5; i++) socket.send(`{"type":"telemetry","n":${i}}`, true, Date.now());
      ws.bufferedAmount = 0;
      jest.advanceTimersByTime(999);
      for (let i = 5; i < 8; i++) socket.send(`{"type":"telemetry","n":${i}}`, true, Date.now());
      jest.advanceTimersByTime(3000);
      const reports = sent.filter((data) => data.includes('telemetry_dropped')).map((data) => JSON.parse(data) as unknown);
      expect(reports).toEqual([{ type: 'telemetry_dropped', count: 3, late: 0, overflow: 3 }]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('never reports drops to a device socket', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const { ws, sent } = stuckSocket();
      const socket = new ClientSocket(ws as unknown as WebSocket, limits);
      socket.droppedLate(3, 'fanout');
      jest.advanceTimersByTime(2000);
      expect(sent).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });
});
