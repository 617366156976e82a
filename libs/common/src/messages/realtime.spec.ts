import { describe, expect, it } from '@jest/globals';
import {
  checkDeviceCommand,
  checkDeviceDescription,
  checkDeviceEvent,
  checkSubscribe,
  isOrgId,
  isPrintable,
  isSourceId,
  jsonDepthExceeds,
  quoteInput,
  REALTIME_LIMITS,
} from './realtime.js';

describe('quoteInput', () => {
  it('quotes at most 64 characters of input, JSON-escaped', () => {
    expect(quoteInput('teleport')).toBe('"teleport"');
    const quoted = quoteInput('x'.repeat(1024 * 1024));
    expect(quoted).toBe(`"${'x'.repeat(64)}"…`);
    expect(quoteInput('a"\u0000\n\ud800')).toBe('"a\\"\\u0000\\n\\ud800"');
    expect(quoteInput({ deep: 1 })).toBe('"{\\"deep\\":1}"');
    expect(quoteInput(undefined)).toBe('"undefined"');
  });
});

describe('jsonDepthExceeds', () => {
  it('counts nesting outside strings only, without recursion', () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":[2]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}\\"{{"}`, 2)).toBe(false);
    expect(jsonDepthExceeds('['.repeat(10_000) + ']'.repeat(10_000))).toBe(true);
    expect(jsonDepthExceeds(`${'['.repeat(REALTIME_LIMITS.maxDepth)}${']'.repeat(REALTIME_LIMITS.maxDepth)}`)).toBe(false);
  });
});

describe('ids', () => {
  it('accepts the ingest rule for source ids and printable, bounded strings elsewhere', () => {
    expect(isSourceId('sensor-01.lab:a_b')).toBe(true);
    for (const bad of ['', '.x', 'a b', 'lab\u02e0', 'x'.repeat(129), 7, null]) expect(isSourceId(bad)).toBe(false);
    expect(isPrintable('session 1', 128)).toBe(true);
    for (const bad of ['', '\u0000', 'a\nb', '\ud800', 'a\udc00', 'x'.repeat(129), 1]) expect(isPrintable(bad, 128)).toBe(false);
    expect(isPrintable('\u{1F600}', 128)).toBe(true);
    expect(isOrgId('default')).toBe(true);
    expect(isOrgId('x'.repeat(129))).toBe(false);
  });
});

describe('frame checks', () => {
  it('refuses bad session ids before any database call', () => {
    for (const sessionId of ['\u0000', 5, 'x'.repeat(129), '\ud800', undefined]) {
      expect(checkDeviceEvent('session_started', { session_id: sessionId })).toMatch(/session_id/);
      expect(checkDeviceEvent('session_stopped', { session_id: sessionId })).toMatch(/session_id/);
    }
    expect(checkDeviceEvent('session_stopped', { session_id: 'rec-1' })).toBeUndefined();
  });

  it('bounds command fields: ids, metrics, config, command', () => {
    expect(checkDeviceCommand('start_stream', { id: 'st-1', metrics: ['a:b'], interval_ms: 100 })).toBeUndefined();
    expect(checkDeviceCommand('stop_stream', { id: '*' })).toBeUndefined();
    expect(checkDeviceCommand('start_stream', { id: 'x'.repeat(129) })).toMatch(/"id"/);
    expect(checkDeviceCommand('start_stream', { metrics: Array(1001).fill('m') })).toMatch(/metrics/);
    expect(checkDeviceCommand('start_stream', { metrics: 'm' })).toMatch(/metrics/);
    expect(checkDeviceCommand('start_stream', { interval_ms: '1' })).toMatch(/interval_ms/);
    expect(checkDeviceCommand('configure', { sensor: 's', config: { pad: 'x'.repeat(70_000) } })).toMatch(/config/);
    expect(checkDeviceCommand('execute', { command: 'x'.repeat(8192) })).toBeUndefined();
    expect(checkDeviceCommand('execute', { command: 'x'.repeat(8193) })).toMatch(/8192/);
    expect(checkDeviceCommand('execute', { command: 7 })).toMatch(/command/);
  });

  it('bounds subscribe and the device description', () => {
    expect(checkSubscribe({})).toBeUndefined();
    expect(checkSubscribe({ source_ids: ['a', 'b'] })).toBeUndefined();
    expect(checkSubscribe({ source_ids: Array(1001).fill('a') })).toMatch(/1000/);
    expect(checkSubscribe({ source_ids: ['x'.repeat(10_000)] })).toMatch(/valid source id/);
    expect(checkDeviceDescription({ platform: 'Linux', sensors: [{ name: 'IMU' }] })).toBeUndefined();
    expect(checkDeviceDescription({ sensors: [{ name: 'x'.repeat(70_000) }] })).toMatch(/sensors/);
    expect(checkDeviceDescription({ sensors: [7] })).toMatch(/sensors/);
    expect(checkDeviceDescription({ platform: '\u0000' })).toMatch(/platform/);
  });
});
