import { describe, expect, it } from '@jest/globals';
import type { IncomingPoint } from '../messages/telemetry.js';
import { parseLineProtocol, type LineProtocolOptions, type ParsedLines, type Precision } from './line-protocol.js';

const NS: LineProtocolOptions = { precision: 'ns' };

function parse(body: string, options: LineProtocolOptions = NS): ParsedLines {
  return parseLineProtocol(body, options);
}

/** The points of a body that must parse without errors. */
function points(body: string, options: LineProtocolOptions = NS): IncomingPoint[] {
  const result = parse(body, options);
  expect(result.errors).toEqual([]);
  return result.points;
}

/** The single error of a one-line body that must fail. */
function error(line: string, options: LineProtocolOptions = NS): string {
  const result = parse(line, options);
  expect(result.points).toEqual([]);
  expect(result.errors).toHaveLength(1);
  expect(result.errors[0].line).toBe(1);
  return result.errors[0].message;
}

function value(fieldValue: string): unknown {
  const [point] = points(`m f=${fieldValue}`);
  return point.value;
}

describe('parseLineProtocol: the InfluxDB line protocol reference', () => {
  it('parses the syntax example into one point per field', () => {
    expect(points('myMeasurement,tag1=value1,tag2=value2 fieldKey="fieldValue" 1556813561098000000')).toEqual([
      {
        metric: 'myMeasurement.fieldKey',
        value: 'fieldValue',
        source_id: 'myMeasurement',
        tags: { tag1: 'value1', tag2: 'value2' },
        timestamp: 1556813561.098,
      },
    ]);
  });

  it('unescapes spaces and commas in measurements, and keeps = literal there', () => {
    expect(points('my\\ Measurement fieldKey="string value"')[0].metric).toBe('my Measurement.fieldKey');
    expect(points('a\\,b\\=c f=1')[0].metric).toBe('a,b\\=c.f');
    expect(points('a=b f=1')[0].metric).toBe('a=b.f');
  });

  it('unescapes spaces, commas and equals signs in tag keys, tag values and field keys', () => {
    expect(points('myMeasurement,tag\\ Key1=tag\\ Value1,tag\\ Key2=tag\\ Value2 fieldKey=100')[0].tags).toEqual({
      'tag Key1': 'tag Value1',
      'tag Key2': 'tag Value2',
    });
    expect(points('m,k\\,1\\=x=v\\,2\\=y f\\ 1\\,\\==1')[0]).toEqual({
      metric: 'm.f 1,=',
      value: 1,
      source_id: 'm',
      tags: { 'k,1=x': 'v,2=y' },
    });
  });

  it('reads double quotes inside a string field value', () => {
    expect(value('"\\"string\\" within a string"')).toBe('"string" within a string');
  });

  it('keeps quotes in names, keys and tag values as part of them', () => {
    expect(points('joe\'smeasurement,pat\'sTag="tag1" fieldKey=100')[0]).toEqual({
      metric: "joe'smeasurement.fieldKey",
      value: 100,
      source_id: "joe'smeasurement",
      tags: { "pat'sTag": '"tag1"' },
    });
  });

  it('accepts emoji in tag values and strings', () => {
    expect(points('myMeasurement,tagKey=🍭 fieldKey="Launch 🚀" 1556813561098000000')[0]).toMatchObject({
      tags: { tagKey: '🍭' },
      value: 'Launch 🚀',
    });
  });

  it('follows the reference on backslashes: escapes in strings, literal elsewhere', () => {
    expect(points('airSensor,sensor_id=TLM\\=0201 desc="\\=My data==\\\\"')[0]).toEqual({
      metric: 'airSensor.desc',
      value: '\\=My data==\\',
      source_id: 'airSensor',
      tags: { sensor_id: 'TLM=0201' },
    });
    expect(points('air\\\\\\\\\\Sensor,sensor_id=TLM\\=0201 desc="\\\\\\"==My data\\==\\\\"')[0]).toEqual({
      metric: 'air\\\\\\\\\\Sensor.desc',
      value: '\\"==My data\\==\\',
      source_id: 'air\\\\\\\\\\Sensor',
      tags: { sensor_id: 'TLM=0201' },
    });
    // \n in a string is a backslash and an n, not a newline.
    expect(value('"a\\nb"')).toBe('a\\nb');
    // A backslash before an escapable character escapes it even after a literal backslash.
    expect(points('m,k=a\\\\b f=1')[0].tags).toEqual({ k: 'a\\\\b' });
    // So a tag value cannot end with a backslash: it would escape the delimiter after it.
    expect(error('m,k=a\\\\,j=b f=1')).toMatch(/unescaped '=' in the value of tag "k"/);
    expect(points('m,k=a\\\\\\,j f=1')[0].tags).toEqual({ k: 'a\\\\,j' });
  });

  it.each([
    ['1.0', 1],
    ['1', 1],
    ['-1.234456e+78', -1.234456e78],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['1.', 1],
    ['0', 0],
    ['007.5', 7.5],
  ])('reads the float %s', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it.each([
    ['1i', 1],
    ['12485903i', 12485903],
    ['-12485903i', -12485903],
    ['9223372036854775807i', 2 ** 63],
    ['-9223372036854775808i', -(2 ** 63)],
    ['1u', 1],
    ['12485903u', 12485903],
    ['0u', 0],
    ['18446744073709551615u', 2 ** 64],
  ])('reads the integer %s', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it('turns integers beyond 2^53 into the nearest double', () => {
    expect(value('9007199254740993i')).toBe(9007199254740992);
  });

  it.each(['t', 'T', 'true', 'True', 'TRUE'])('reads %s as true', (text) => expect(value(text)).toBe(true));
  it.each(['f', 'F', 'false', 'False', 'FALSE'])('reads %s as false', (text) => expect(value(text)).toBe(false));

  it('reads a string that holds spaces, commas, equals signs and #', () => {
    expect(value('"a b,c=d #e"')).toBe('a b,c=d #e');
    expect(value('""')).toBe('');
  });

  it.each([
    ['ns', '1700000000123456789', 1700000000.123456],
    ['ns', '-1500', -0.000002],
    ['ns', '-1000', -0.000001],
    ['ns', '999', 0],
    ['ns', '9223372036854775806', Number('9223372036854775') / 1e6],
    ['ns', '-9223372036854775806', Number('-9223372036854776') / 1e6],
    ['ns', '0', 0],
    ['us', '1700000000123456', 1700000000.123456],
    ['us', '-1', -0.000001],
    ['ms', '1700000000123', 1700000000.123],
    ['ms', '-1700000000123', -1700000000.123],
    ['s', '1700000000', 1700000000],
    ['s', '-1', -1],
    ['s', '0001700000000', 1700000000],
  ] as [Precision, string, number][])('reads a %s timestamp %s as Unix seconds', (precision, text, seconds) => {
    const [point] = points(`m f=1 ${text}`, { precision });
    expect(point.timestamp).toBe(seconds);
  });

  it('keeps every microsecond of 19-digit nanosecond timestamps (pointTimeMicros reads them back exactly)', () => {
    for (const [text, micros] of [
      ['1700000000123456789', 1700000000123456],
      ['1700000000000000999', 1700000000000000],
      ['1099511627775999999', 1099511627775999],
      ['4102444800000001000', 4102444800000001],
    ] as const) {
      const [point] = points(`m f=1 ${text}`);
      expect(Math.round(point.timestamp! * 1e6)).toBe(micros);
    }
  });

  it('leaves the timestamp out when the line has none', () => {
    expect(points('m f=1')[0]).not.toHaveProperty('timestamp');
    expect(points('m f=1   ')[0]).not.toHaveProperty('timestamp');
  });

  it('refuses timestamps outside InfluxDB range and non-integers', () => {
    expect(error('m f=1 9223372036854775807')).toMatch(/out of range/);
    expect(error('m f=1 -9223372036854775807')).toMatch(/out of range/);
    expect(error('m f=1 9223372036854776', { precision: 'us' })).toMatch(/out of range/);
    expect(error('m f=1 9223372036855', { precision: 'ms' })).toMatch(/out of range/);
    expect(error('m f=1 9223372037', { precision: 's' })).toMatch(/out of range/);
    expect(error('m f=1 1.5')).toMatch(/column 7: expected a timestamp/);
    expect(error('m f=1 -')).toMatch(/expected a timestamp/);
    expect(error('m f=1 12 13')).toMatch(/column 10: unexpected text after the timestamp/);
  });
});

describe('parseLineProtocol: Telegraf and Home Assistant lines', () => {
  it('maps a Telegraf cpu line, host as the source', () => {
    expect(points('cpu,cpu=cpu-total,host=pi usage_idle=97.5,usage_user=1.2 1700000000000000000')).toEqual([
      { metric: 'cpu.usage_idle', value: 97.5, source_id: 'pi', tags: { cpu: 'cpu-total' }, timestamp: 1700000000 },
      { metric: 'cpu.usage_user', value: 1.2, source_id: 'pi', tags: { cpu: 'cpu-total' }, timestamp: 1700000000 },
    ]);
  });

  it('maps a Telegraf mem line without other tags', () => {
    expect(points('mem,host=pi used_percent=41.2,available=123456789i 1700000000000000000')).toEqual([
      { metric: 'mem.used_percent', value: 41.2, source_id: 'pi', timestamp: 1700000000 },
      { metric: 'mem.available', value: 123456789, source_id: 'pi', timestamp: 1700000000 },
    ]);
  });

  it('maps a Telegraf disk line', () => {
    const [free, used] = points('disk,device=sda1,fstype=ext4,host=pi,mode=rw,path=/ free=1i,used_percent=50 1700000000000000000');
    expect(free).toEqual({
      metric: 'disk.free',
      value: 1,
      source_id: 'pi',
      tags: { device: 'sda1', fstype: 'ext4', mode: 'rw', path: '/' },
      timestamp: 1700000000,
    });
    expect(used).toMatchObject({ metric: 'disk.used_percent', value: 50 });
  });

  it('maps a Home Assistant line: the field `value` names the measurement, which is also the source', () => {
    expect(points('°C,domain=sensor,entity_id=living_room value=21.5 1700000000000000000')).toEqual([
      { metric: '°C', value: 21.5, source_id: '°C', tags: { domain: 'sensor', entity_id: 'living_room' }, timestamp: 1700000000 },
    ]);
  });
});

describe('parseLineProtocol: mapping options', () => {
  it('takes source_id from host, then source, then the measurement, removing only that tag', () => {
    expect(points('m,host=h,source=s f=1')[0]).toMatchObject({ source_id: 'h', tags: { source: 's' } });
    expect(points('m,source=s,x=1 f=1')[0]).toEqual({ metric: 'm.f', value: 1, source_id: 's', tags: { x: '1' } });
    expect(points('m,x=1 f=1')[0]).toMatchObject({ source_id: 'm', tags: { x: '1' } });
  });

  it('uses options.sourceTag when set, and then host is an ordinary tag', () => {
    const options: LineProtocolOptions = { precision: 'ns', sourceTag: 'device' };
    expect(points('m,device=d7,host=h f=1', options)[0]).toMatchObject({ source_id: 'd7', tags: { host: 'h' } });
    expect(points('m,host=h f=1', options)[0]).toMatchObject({ source_id: 'm', tags: { host: 'h' } });
  });

  it('sets session_id on every point when asked', () => {
    const result = points('m a=1,b=2\nn c=3', { precision: 's', sessionId: 'bucket-1' });
    expect(result.map((p) => p.session_id)).toEqual(['bucket-1', 'bucket-1', 'bucket-1']);
    expect(points('m a=1')[0]).not.toHaveProperty('session_id');
  });

  it('keeps a tag named __proto__ as an own property', () => {
    const [point] = points('m,__proto__=x f=1');
    expect(Object.keys(point.tags!)).toEqual(['__proto__']);
    expect(JSON.stringify(point.tags)).toBe('{"__proto__":"x"}');
  });

  it('tells apart series and field keys whose hashes collide ("Aa" and "BB")', () => {
    const result = points('Aa,t=x f=1\nBB,t=x f=2\nAa,t=x Aa=3,BB=4\nBB,t=x BB=5,Aa=6');
    expect(result.map((p) => `${p.metric}=${String(p.value)}`)).toEqual(['Aa.f=1', 'BB.f=2', 'Aa.Aa=3', 'Aa.BB=4', 'BB.BB=5', 'BB.Aa=6']);
    expect(result.map((p) => p.source_id)).toEqual(['Aa', 'BB', 'Aa', 'Aa', 'BB', 'BB']);
  });

  it('lets the last value of a repeated field key win, at its first place', () => {
    expect(points('m a=1,b=2,a="x"').map((p) => [p.metric, p.value])).toEqual([
      ['m.a', 'x'],
      ['m.b', 2],
    ]);
    const many = Array.from({ length: 40 }, (_, i) => `f${i % 20}=${i}`).join(',');
    const result = points(`m ${many}`);
    expect(result).toHaveLength(20);
    expect(result[0]).toMatchObject({ metric: 'm.f0', value: 20 });
  });
});

describe('parseLineProtocol: lines, comments and errors', () => {
  it('skips empty lines and comments, strips CR, and counts the other lines', () => {
    const result = parse('# header\r\n\r\n  # indented comment\nm a=1\r\n\n   \nm b=2 1\r\n');
    expect(result.errors).toEqual([]);
    expect(result.lines).toBe(2);
    expect(result.points.map((p) => p.metric)).toEqual(['m.a', 'm.b']);
  });

  it('accepts leading spaces, several spaces between sections and trailing spaces', () => {
    expect(points('  m,t=1   a=1    5   ')[0]).toEqual({ metric: 'm.a', value: 1, source_id: 'm', tags: { t: '1' }, timestamp: 0 });
  });

  it('reports bad lines by 1-based number and keeps the good ones', () => {
    const body = ['m a=1', 'bad', '# c', '', 'm b=2', 'm c=', 'm d=4\r', 'm,host= e=1'].join('\n');
    const result = parse(body);
    expect(result.points.map((p) => p.metric)).toEqual(['m.a', 'm.b', 'm.d']);
    expect(result.errors.map((e) => e.line)).toEqual([2, 6, 8]);
    expect(result.lines).toBe(6);
  });

  it.each([
    ['m', 'column 2: expected a space and fields after measurement "m", found the end of the line'],
    ['m ', 'column 3: expected fields (key=value), found the end of the line; a line needs at least one field'],
    ['m,t=1', 'column 6: expected a space and fields after the tags, found the end of the line'],
    [',t=1 f=1', "column 1: expected a measurement name, found ','"],
    ['m, f=1', "column 3: expected a tag key after ',', found a space"],
    ['m,t f=1', 'column 4: expected \'=\' after tag key "t", found a space'],
    ['m,t= f=1', 'column 5: tag "t" has an empty value (omit the tag instead), found a space'],
    ['m,t=a=b f=1', 'column 6: unescaped \'=\' in the value of tag "t" (write \\=)'],
    ['m,t=1,t=2 f=1', 'column 7: tag key "t" appears twice in the line'],
    ['m,host=a,host=b f=1', 'column 10: tag key "host" appears twice in the line'],
    ['m f', 'column 4: expected \'=\' after field key "f", found the end of the line'],
    ['m =1', "column 3: expected a field key, found '='"],
    ['m f=', 'column 5: expected a value for field "f", found the end of the line'],
    ['m f=,g=1', 'column 5: expected a value for field "f", found \',\''],
    ['m f=1,', 'column 7: expected a field key, found the end of the line'],
    ['m f=1x', 'column 5: the value of field "f" is not a valid number, found "1x"'],
    [
      'm f=yes',
      'column 5: the value of field "f" must be a number (1.5, 3i, 3u), a "quoted string" or a boolean (t, true, f, false…), found "yes"',
    ],
    [
      'm f=tru',
      'column 5: the value of field "f" must be a number (1.5, 3i, 3u), a "quoted string" or a boolean (t, true, f, false…), found "tru"',
    ],
    [
      'm f="abc',
      'column 5: the string value of field "f" is not closed on this line (a \'"\' inside it is written \\", and a newline cannot appear inside a string)',
    ],
    ['m f="a"b', 'column 8: expected \',\' or a space after the value of field "f", found "b"'],
    ['m f=1e400', 'column 5: the value of field "f" is out of range for a 64-bit float, found "1e400"'],
    [
      'm f=9223372036854775808i',
      'column 5: the value of field "f" is out of range for a signed 64-bit integer, found "9223372036854775808i"',
    ],
    [
      'm f=-9223372036854775809i',
      'column 5: the value of field "f" is out of range for a signed 64-bit integer, found "-9223372036854775809i"',
    ],
    [
      'm f=18446744073709551616u',
      'column 5: the value of field "f" is out of range for an unsigned 64-bit integer, found "18446744073709551616u"',
    ],
    ['m f=-1u', 'column 5: the value of field "f" is an unsigned integer (u) and cannot be negative, found "-1u"'],
    ['m f=1.5i', 'column 5: the value of field "f" is not a valid integer (digits then i), found "1.5i"'],
    [
      'm f=NaN',
      'column 5: the value of field "f" must be a number (1.5, 3i, 3u), a "quoted string" or a boolean (t, true, f, false…), found "NaN"',
    ],
    ['m f=-', 'column 5: the value of field "f" is not a valid number, found "-"'],
    ['m f=1e', 'column 5: the value of field "f" is not a valid number, found "1e"'],
    [
      'm f=+1',
      'column 5: the value of field "f" must be a number (1.5, 3i, 3u), a "quoted string" or a boolean (t, true, f, false…), found "+1"',
    ],
    ['m f=a\u0000', 'column 6: NUL (\\u0000) characters cannot be stored'],
    ['m f="\uD800"', 'column 6: the text must be valid Unicode (a lone surrogate was found)'],
  ])('refuses %j with a message naming the column', (line, message) => {
    expect(error(line)).toBe(message);
  });

  it('refuses a newline inside a string: both halves are bad lines', () => {
    const result = parse('m a=1\nm f="first\nsecond" 1\nm b=2');
    expect(result.points.map((p) => p.metric)).toEqual(['m.a', 'm.b']);
    expect(result.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(result.errors[0].message).toMatch(/not closed on this line/);
  });

  it('counts columns from the start of the line, leading spaces included', () => {
    expect(error('  m f=')).toMatch(/^column 7:/);
  });

  it('shortens long names quoted in messages', () => {
    expect(error(`m ${'k'.repeat(1000)}`)).toBe(
      `column 1003: expected '=' after field key "${'k'.repeat(40)}…", found the end of the line`,
    );
  });

  it('returns nothing for an empty body', () => {
    expect(parse('')).toEqual({ points: [], errors: [], lines: 0, pointLines: [] });
    expect(parse('\n\n# only comments\n')).toEqual({ points: [], errors: [], lines: 0, pointLines: [] });
  });
});

describe('parseLineProtocol: the line of each point', () => {
  it('names the line every point came from, skipping refused, empty and comment lines', () => {
    const parsed = parseLineProtocol('a,host=h x=1,y=2\n\n# note\nbad line\nb,host=h value=3\n', { precision: 'ns' });
    expect(parsed.points.map((p) => p.metric)).toEqual(['a.x', 'a.y', 'b']);
    expect(parsed.pointLines).toEqual([1, 1, 5]);
    expect(parsed.errors.map((e) => e.line)).toEqual([4]);
  });
});
