import { describe, expect, it } from '@jest/globals';
import { deviceKey, isInstanceId, parseDeviceKey, parseDeviceLease } from './presence-keys.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('presence bucket keys and values', () => {
  it('round-trip an org and a source through a key, ids that need escaping included', () => {
    for (const [orgId, sourceId] of [
      ['default', 'rig-1'],
      ['org.with.dots', 'lab.0'],
      ['ünïcødé 😀', 'a:b_c-d'],
    ]) {
      const key = deviceKey(orgId, sourceId);
      expect(key.split('.')).toHaveLength(2);
      expect(key).toMatch(/^[-/=.\w]+$/);
      expect(parseDeviceKey(key)).toEqual({ orgId, sourceId });
    }
  });

  it.each(['', 'default', 'a.b.c', '.x', 'default.', 'default.=002e', 'default.=zzzz', `default.${'a'.repeat(200)}`, '=0000.rig'])(
    'ignores the key %j, which realtime never writes',
    (key) => expect(parseDeviceKey(key)).toBeUndefined(),
  );

  it('reads a lease realtime wrote and nothing else', () => {
    expect(parseDeviceLease(bytes('{"instance_id":"0a1b2c3d4e5f","connection_id":"3f1e-uuid"}'))).toEqual({
      instance_id: '0a1b2c3d4e5f',
      connection_id: '3f1e-uuid',
    });
    for (const junk of [
      '',
      'not json',
      'null',
      '[]',
      '"text"',
      '{}',
      '{"instance_id":1,"connection_id":"x"}',
      '{"instance_id":"a.b","connection_id":"x"}',
      '{"instance_id":"ok","connection_id":"\\u0000"}',
      '{"instance_id":"ok","connection_id":"\\ud800"}',
      `{"instance_id":"ok","connection_id":"${'x'.repeat(2000)}"}`,
    ]) {
      expect(parseDeviceLease(bytes(junk))).toBeUndefined();
    }
    expect(parseDeviceLease(new Uint8Array([0xff, 0xfe, 0x00]))).toBeUndefined();
  });

  it('knows an instance id from anything else', () => {
    expect(isInstanceId('0a1b2c3d4e5f')).toBe(true);
    for (const junk of ['', 'a.b', 'a*', 'x'.repeat(65), 12, null]) expect(isInstanceId(junk)).toBe(false);
  });
});
