import { describe, expect, it } from '@jest/globals';
import { parseRecording, recordingKey } from './recording-entry.js';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const start = {
  type: 'start_session',
  source_id: 'rig-1',
  session_id: 's-1',
  session_name: 'Run',
  metrics: ['rig-1:temp'],
  interval_ms: 100,
};

describe('recording entries', () => {
  it('key one source of one org, escaping what a key cannot hold', () => {
    expect(recordingKey('default', 'rig-1')).toBe('default.rig-1');
    expect(recordingKey('a.b', 'lab.0')).toBe('a=002eb.lab=002e0');
  });

  it('give back the start_session as it was sent', () => {
    expect(parseRecording(bytes(start), 'rig-1')).toEqual(start);
  });

  it.each<[string, unknown]>([
    ['not JSON', 'not json'],
    ['null', null],
    ['an array', [start]],
    ['another frame type', { ...start, type: 'start_stream' }],
    ['another source', { ...start, source_id: 'rig-2' }],
    ['no session id', { ...start, session_id: undefined }],
    ['a session id with NUL', { ...start, session_id: 'a\u0000b' }],
    ['a lone surrogate', { ...start, session_name: '\ud800' }],
    ['too many metrics', { ...start, metrics: Array.from({ length: 1001 }, (_, i) => `m${i}`) }],
    ['an interval out of bounds', { ...start, interval_ms: -1 }],
    ['a huge value', { ...start, session_name: 'x'.repeat(600_000) }],
  ])('ignore an entry with %s', (_, value) => {
    expect(parseRecording(bytes(value), 'rig-1')).toBeUndefined();
  });

  it('ignore bytes that are not UTF-8 JSON', () => {
    expect(parseRecording(new Uint8Array([0xff, 0xfe, 0x7b]), 'rig-1')).toBeUndefined();
    expect(parseRecording(new Uint8Array(), 'rig-1')).toBeUndefined();
  });
});
