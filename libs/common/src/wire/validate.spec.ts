import { describe, expect, it } from '@jest/globals';
import { REALTIME_LIMITS } from './limits.js';
import {
  checkBrowserAuth,
  checkDeviceAuth,
  checkDeviceCommand,
  checkDeviceEvent,
  checkSubscribe,
  type WireCheck,
  checkRuleInput,
  checkRulePatch,
  checkRuleTest,
} from './validate.js';

/** The problem a refused frame gets; fails the test when the frame is accepted. */
function problem(check: WireCheck<unknown> | undefined): string {
  if (!check) throw new Error('no validator for this type');
  if (check.ok) throw new Error('accepted');
  return check.problem;
}

const SOURCE = 'sensor-01.lab:a_b';
const HOSTILE_STRINGS = ['', '\u0000', 'a\nb', 'a\u0007b', '\ud800', 'a\udc00', 'x'.repeat(129)];

describe('every frame of the contract, in its contract shape, is accepted', () => {
  it.each([
    { type: 'telemetry', points: [{ metric: 'accel_x', value: 0.12, timestamp: 1699900000123 }] },
    { type: 'telemetry', points: [{ metric: 'm', value: 1, tags: { session_id: 'rec' } }], session_id: 'rec-1' },
    { type: 'session_started', session_id: 'sess-route', session_name: 'Routing' },
    { type: 'session_started', session_id: 'sess-route', session_name: null },
    { type: 'session_stopped', session_id: 'sess-route' },
    { type: 'output', id: 'cmd-1', event: 'start', command: 'uname -a' },
    { type: 'output', id: 'cmd-1', event: 'data', data: 'Linux raspberrypi' },
    { type: 'output', id: 'cmd-1', event: 'exit', code: 0 },
    { type: 'output', id: 'cmd-1', event: 'exit', code: null },
    { type: 'output', id: 'cmd-1', event: 'error', error: 'no such command' },
    { type: 'pong' },
    { type: 'pong', source_id: 'someone-else' },
    { type: 'error', message: 'sensor MPU6050 not found' },
  ])('device event $type', (frame) => {
    expect(checkDeviceEvent(frame)).toEqual({ ok: true, frame });
  });

  it.each([
    { type: 'start_stream', id: 'st-1', source_id: SOURCE, metrics: [`${SOURCE}:accel_x`, 'accel_y'], interval_ms: 100 },
    { type: 'stop_stream', id: '*', source_id: SOURCE },
    { type: 'start_session', source_id: SOURCE, session_id: 'sess-route', session_name: 'Routing', metrics: [], interval_ms: 100 },
    { type: 'start_session', source_id: SOURCE },
    { type: 'stop_session', source_id: SOURCE, session_id: 'sess-route' },
    { type: 'configure', source_id: SOURCE, sensor: 'MPU6050', config: { sample_rate: 50 } },
    { type: 'execute', source_id: SOURCE, id: 'cmd-1', command: 'uname -a' },
    { type: 'execute', source_id: SOURCE, command: 'x'.repeat(REALTIME_LIMITS.maxCommandLength) },
    { type: 'cancel', source_id: SOURCE, id: 'cmd-1' },
    { type: 'cancel', source_id: SOURCE },
    { type: 'ping', source_id: SOURCE },
  ])('command $type', (frame) => {
    expect(checkDeviceCommand(frame)).toEqual({ ok: true, frame });
  });

  it('accepts the Python agent device_auth, the legacy one, browser_auth and subscribe', () => {
    const python = {
      type: 'device_auth',
      device_token: `plxd_${'a'.repeat(40)}`,
      source_id: SOURCE,
      platform: 'Linux',
      sensors: [{ name: 'MPU6050', description: '6-axis IMU', metrics: ['accel_x'], sample_rate: 100, prefix: '', available: true }],
    };
    expect(checkDeviceAuth(python).ok).toBe(true);
    expect(checkDeviceAuth({ type: 'device_auth', api_key: `plx_${'a'.repeat(40)}`, source_id: 'legacy-1', cameras: [] }).ok).toBe(true);
    expect(checkDeviceAuth({ type: 'device_auth', platform: null }).ok).toBe(true);
    expect(checkBrowserAuth({ type: 'browser_auth', api_key: `plx_${'a'.repeat(40)}` }).ok).toBe(true);
    for (const frame of [{ type: 'subscribe' }, { type: 'subscribe', source_ids: null }, { type: 'subscribe', source_ids: ['a', 'b'] }]) {
      expect(checkSubscribe(frame).ok).toBe(true);
    }
  });

  it('leaves fields it does not read open, as today: extra properties pass and are kept', () => {
    const frame = { type: 'telemetry', points: [], extra: { any: 'thing' }, __proto__x: 1 };
    expect(checkDeviceEvent(frame)).toEqual({ ok: true, frame });
    const parsed = JSON.parse('{"type":"pong","__proto__":{"polluted":true}}') as { type: string };
    expect(checkDeviceEvent(parsed)?.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('has no validator for a type the side may not send, nor for inherited names', () => {
    for (const type of ['heartbeat', 'TELEMETRY', ' ping', 'constructor', '__proto__', 'toString', 'start_stream']) {
      expect(checkDeviceEvent({ type })).toBeUndefined();
    }
    for (const type of ['telemetry', 'subscribe', 'constructor', 'hasOwnProperty']) expect(checkDeviceCommand({ type })).toBeUndefined();
  });
});

describe('every bound is refused with a message naming the field', () => {
  it('ids and session ids: 1 to 128 printable characters, no NUL, no lone surrogate, no control character', () => {
    for (const sessionId of [...HOSTILE_STRINGS, 42, null, undefined, ['a'], { a: 1 }]) {
      for (const type of ['session_started', 'session_stopped']) {
        expect(problem(checkDeviceEvent({ type, session_id: sessionId }))).toMatch(
          /^"session_id" (is required|must be 1 to 128 printable characters)$/,
        );
      }
      if (sessionId !== undefined) {
        expect(problem(checkDeviceEvent({ type: 'telemetry', session_id: sessionId, points: [] }))).toMatch(/"session_id"/);
        expect(problem(checkDeviceCommand({ type: 'start_stream', source_id: SOURCE, id: sessionId }))).toBe(
          '"id" must be 1 to 128 printable characters',
        );
      }
    }
    expect(checkDeviceEvent({ type: 'session_stopped', session_id: 'x'.repeat(128) })?.ok).toBe(true);
    // Characters are code points, as in HTTP ingest and PostgreSQL.
    expect(checkDeviceEvent({ type: 'session_stopped', session_id: '\u{1F600}'.repeat(128) })?.ok).toBe(true);
    expect(problem(checkDeviceEvent({ type: 'session_stopped', session_id: '\u{1F600}'.repeat(129) }))).toMatch(/session_id/);
  });

  it('names and platform', () => {
    expect(problem(checkDeviceEvent({ type: 'session_started', session_id: 's', session_name: 'n'.repeat(257) }))).toBe(
      '"session_name" must be 1 to 256 printable characters',
    );
    expect(problem(checkDeviceCommand({ type: 'configure', source_id: SOURCE, sensor: '\u0000' }))).toBe(
      '"sensor" must be 1 to 256 printable characters',
    );
    expect(problem(checkDeviceCommand({ type: 'configure', source_id: SOURCE }))).toBe('"sensor" is required');
    expect(problem(checkDeviceAuth({ type: 'device_auth', platform: 'p'.repeat(129) }))).toBe(
      '"platform" must be 1 to 128 printable characters',
    );
    expect(problem(checkDeviceAuth({ type: 'device_auth', platform: 7 }))).toMatch(/^"platform"/);
  });

  it('metrics, interval_ms, config and command', () => {
    const command = (fields: { type: string; [field: string]: unknown }) => problem(checkDeviceCommand({ source_id: SOURCE, ...fields }));
    expect(command({ type: 'start_stream', metrics: Array(1001).fill('m') })).toBe('"metrics" must be a list of at most 1000 names');
    expect(command({ type: 'start_stream', metrics: 'm' })).toBe('"metrics" must be a list of at most 1000 names');
    expect(command({ type: 'start_session', metrics: ['ok', 'm'.repeat(257)] })).toBe(
      'each of "metrics" must be 1 to 256 printable characters',
    );
    expect(command({ type: 'start_stream', metrics: ['ok', 7] })).toBe('each of "metrics" must be 1 to 256 printable characters');
    for (const interval of ['1', -1, 86_400_001, null]) {
      expect(command({ type: 'start_stream', interval_ms: interval })).toBe('"interval_ms" must be a number from 0 to 86400000');
    }
    expect(command({ type: 'configure', sensor: 's', config: { pad: 'x'.repeat(70_000) } })).toBe(
      '"config" must be at most 65536 bytes as JSON',
    );
    expect(checkDeviceCommand({ type: 'configure', source_id: SOURCE, sensor: 's', config: 'any JSON' })?.ok).toBe(true);
    expect(command({ type: 'execute', command: 'x'.repeat(8193) })).toBe('"command" must be 1 to 8192 characters');
    expect(command({ type: 'execute', command: '' })).toBe('"command" must be 1 to 8192 characters');
    expect(command({ type: 'execute', command: 7 })).toBe('"command" must be 1 to 8192 characters');
    expect(command({ type: 'execute' })).toBe('"command" is required');
  });

  it('source_id of commands: the ingest rule, checked before it can enter a subject', () => {
    for (const sourceId of ['lab\u02e0', 'a b', '.x', 'Z'.repeat(10_000), 7, null, '']) {
      const check = checkDeviceCommand({ type: 'ping', source_id: sourceId } as { type: string });
      expect(check && !check.ok && check.field).toBe('source_id');
    }
    const missing = checkDeviceCommand({ type: 'execute', command: 'id' });
    expect(missing && !missing.ok && missing.problem).toBe('"source_id" is required');
  });

  it('telemetry points, output event and code', () => {
    expect(problem(checkDeviceEvent({ type: 'telemetry', points: Array(10_001).fill(0) }))).toBe(
      '"points" must be a list of at most 10000 points',
    );
    expect(problem(checkDeviceEvent({ type: 'telemetry', points: { 0: 1 } }))).toMatch(/^"points"/);
    expect(checkDeviceEvent({ type: 'telemetry', points: Array(10_000).fill(0) })?.ok).toBe(true);
    expect(problem(checkDeviceEvent({ type: 'output', id: 'c', event: 'exploded' }))).toBe(
      '"event" must be "start", "data", "exit" or "error"',
    );
    expect(problem(checkDeviceEvent({ type: 'output', id: 'c', event: 'exit', code: '0' }))).toBe('"code" must be a number or null');
    expect(problem(checkDeviceEvent({ type: 'output', event: 'data' }))).toBe('"id" is required');
  });

  it('device_auth: credentials, sensors and cameras', () => {
    const auth = (fields: Record<string, unknown>) => problem(checkDeviceAuth({ type: 'device_auth', ...fields }));
    expect(auth({ device_token: 'x'.repeat(257) })).toBe('"device_token" must be a credential of 1 to 256 characters');
    expect(auth({ api_key: 12345 })).toBe('"api_key" must be a credential of 1 to 256 characters');
    expect(auth({ source_id: ['a'] })).toBe('"source_id" must be a string');
    expect(auth({ sensors: Array.from({ length: 300 }, (_, i) => ({ name: `s${i}` })) })).toBe(
      '"sensors" must be a list of at most 256 sensors and 65536 bytes',
    );
    expect(auth({ sensors: [{ name: 'x'.repeat(70_000) }] })).toBe('"sensors" must be a list of at most 256 sensors and 65536 bytes');
    for (const sensor of [7, 'IMU', null, [{ name: 'x' }]])
      expect(auth({ sensors: [{ name: 'ok' }, sensor] })).toBe('each of "sensors" must be an object');
    expect(auth({ cameras: Array(65).fill({}) })).toBe('"cameras" must be a list of at most 64 cameras and 16384 bytes');
    expect(auth({ cameras: [{ pad: 'x'.repeat(17_000) }] })).toBe('"cameras" must be a list of at most 64 cameras and 16384 bytes');
    expect(problem(checkBrowserAuth({ type: 'browser_auth' }))).toBe('"api_key" is required');
    expect(problem(checkBrowserAuth({ type: 'browser_auth', api_key: '' }))).toMatch(/^"api_key"/);
  });

  it('subscribe', () => {
    expect(problem(checkSubscribe({ type: 'subscribe', source_ids: Array(1001).fill('a') }))).toBe(
      '"source_ids" must be a list of at most 1000 source ids',
    );
    expect(problem(checkSubscribe({ type: 'subscribe', source_ids: 'everything' }))).toMatch(/^"source_ids" must be a list/);
    expect(problem(checkSubscribe({ type: 'subscribe', source_ids: ['ok', 'Z'.repeat(10_000)] }))).toBe(
      'each of "source_ids" must be a valid source id',
    );
  });

  it('never quotes what it was sent', () => {
    const huge = `${'x'.repeat(300_000)}"<script>`;
    for (const check of [
      checkDeviceCommand({ type: 'start_stream', source_id: SOURCE, id: huge }),
      checkDeviceEvent({ type: 'session_stopped', session_id: huge }),
      checkDeviceAuth({ type: 'device_auth', platform: huge }),
    ]) {
      expect(problem(check).length).toBeLessThan(100);
    }
  });
});

describe('alert rules (wire/alerts.ts)', () => {
  const base = { name: 'hot', metric: 'temp', condition: { type: 'above', threshold: 80 } };

  it('accepts tag matches of printable keys up to 128 characters with string, number or boolean values', () => {
    for (const tags of [{ site: 'lab' }, { n: 2, on: true }, { ['😀'.repeat(128)]: 'b' }, { 'é k': '' }]) {
      expect(checkRuleInput({ ...base, tags })).toMatchObject({ ok: true });
    }
  });

  it('checks every tag key and value: none escapes the record with its value unchecked', () => {
    for (const tags of [{ 'k\u0001': { deep: 1 } }, { '': 'x' }, { ['k'.repeat(129)]: 'x' }, { 'a\ud800': 'x' }]) {
      expect(checkRuleInput({ ...base, tags })).toMatchObject({ ok: false, field: 'tags' });
    }
    for (const value of [{ x: 1 }, null, 'v\u0000', 'v'.repeat(257)]) {
      expect(checkRuleInput({ ...base, tags: { site: value } })).toEqual({
        ok: false,
        field: 'site',
        problem: '"site" must be a string of at most 256 characters without NUL, a number or a boolean',
      });
    }
  });

  it('names an unknown field of a rule or of a patch, which is refused', () => {
    expect(checkRuleInput({ ...base, bogus: 1 })).toEqual({ ok: false, field: 'bogus', problem: '"bogus" is not a field of it' });
    expect(checkRulePatch({ bogus: 1 })).toEqual({ ok: false, field: 'bogus', problem: '"bogus" is not a field of it' });
    expect(checkRulePatch({ name: 'renamed' })).toMatchObject({ ok: true });
    expect(checkRuleTest({ rule: { ...base, extra: true } })).toMatchObject({
      ok: false,
      field: 'extra',
      problem: '"extra" is not a field of "rule"',
    });
  });
});
