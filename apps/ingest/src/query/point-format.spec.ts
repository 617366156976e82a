import { describe, expect, it } from '@jest/globals';
import { CSV_HEADER, csvField, csvLine, isoMicros, ndjsonLine, type PointRow, queryPointJson, valueJson } from './point-format.js';

function row(overrides: Partial<PointRow> = {}): PointRow {
  return {
    ts: 1_699_900_000.123456,
    source_id: 'rig-1',
    metric: 'temp',
    value_num: 21.5,
    value_json: null,
    tags: '{}',
    session_id: '',
    ...overrides,
  };
}

describe('csvField', () => {
  it('leaves a plain field unquoted', () => {
    expect(csvField('rig-1')).toBe('rig-1');
    expect(csvField('')).toBe('');
    expect(csvField(' spaced ')).toBe(' spaced ');
  });

  it.each([
    ['a comma', 'a,b', '"a,b"'],
    ['a quote', 'say "hi"', '"say ""hi"""'],
    ['a newline', 'a\nb', '"a\nb"'],
    ['a carriage return', 'a\rb', '"a\rb"'],
  ])('quotes a field holding %s', (_what, input, expected) => {
    expect(csvField(input)).toBe(expected);
  });
});

describe('csvField against formula injection', () => {
  it.each([
    ['=', '=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+', '+1+2', "'+1+2"],
    ['-', '-2+3', "'-2+3"],
    ['@', '@SUM(A1)', "'@SUM(A1)"],
    ['a tab', '\t=1', "'\t=1"],
    ['a carriage return', '\r=1', `"'\r=1"`],
  ])('prefixes a field starting with %s with a single quote', (_what, input, expected) => {
    expect(csvField(input)).toBe(expected);
  });

  it('leaves a formula character that is not first alone', () => {
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField('rig-1')).toBe('rig-1');
  });

  it('keeps a negative numeric value a number, and neutralises text fields of the line', () => {
    const line = csvLine(row({ value_num: -3.5, metric: '=cmd|calc', session_id: '@run', tags: '{}' }));
    expect(line).toBe("2023-11-13T18:26:40.123456Z,1699900000.123456,rig-1,'=cmd|calc,-3.5,{},'@run\n");
  });
});

describe('valueJson', () => {
  it('writes the number, else the JSON text, else null', () => {
    expect(valueJson({ value_num: 0, value_json: null })).toBe('0');
    expect(valueJson({ value_num: -1.5, value_json: null })).toBe('-1.5');
    expect(valueJson({ value_num: null, value_json: '{"a":1}' })).toBe('{"a":1}');
    expect(valueJson({ value_num: null, value_json: null })).toBe('null');
  });
});

describe('queryPointJson', () => {
  it('writes timestamp and numeric value, omitting empty tags and session', () => {
    const json = queryPointJson(row());
    expect(json).toBe('{"timestamp":1699900000.123456,"value":21.5}');
    expect(JSON.parse(json)).toEqual({ timestamp: 1_699_900_000.123456, value: 21.5 });
  });

  it('writes a JSON value as it is stored', () => {
    const json = queryPointJson(row({ value_num: null, value_json: '{"state": "open", "n": [1, 2]}' }));
    expect(JSON.parse(json)).toEqual({ timestamp: 1_699_900_000.123456, value: { state: 'open', n: [1, 2] } });
    expect(JSON.parse(queryPointJson(row({ value_num: null, value_json: '"text"' }))).value).toBe('text');
    expect(JSON.parse(queryPointJson(row({ value_num: null, value_json: 'false' }))).value).toBe(false);
  });

  it('includes tags and session_id when present', () => {
    const json = queryPointJson(row({ tags: '{"room": "a"}', session_id: 'run "7"' }));
    expect(JSON.parse(json)).toEqual({ timestamp: 1_699_900_000.123456, value: 21.5, tags: { room: 'a' }, session_id: 'run "7"' });
  });
});

describe('ndjsonLine', () => {
  it('writes one JSON object per line with every field', () => {
    const line = ndjsonLine(row({ tags: '{"room": "a"}', session_id: 'run-7' }));
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({
      timestamp: 1_699_900_000.123456,
      time: '2023-11-13T18:26:40.123456Z',
      source_id: 'rig-1',
      metric: 'temp',
      value: 21.5,
      tags: { room: 'a' },
      session_id: 'run-7',
    });
  });

  it('keeps empty tags and session, and a JSON value', () => {
    const parsed = JSON.parse(ndjsonLine(row({ value_num: null, value_json: '[1, "x"]', metric: 'a"b\nc' })));
    expect(parsed).toMatchObject({ value: [1, 'x'], tags: {}, session_id: '', metric: 'a"b\nc' });
  });
});

describe('csvLine', () => {
  it('writes the columns of CSV_HEADER for a numeric value', () => {
    expect(CSV_HEADER).toBe('time,timestamp,source_id,metric,value,tags,session_id\n');
    expect(csvLine(row())).toBe('2023-11-13T18:26:40.123456Z,1699900000.123456,rig-1,temp,21.5,{},\n');
  });

  it('quotes a JSON value, tags and fields that need it', () => {
    const line = csvLine(
      row({ value_num: null, value_json: '{"a": 1, "b": "x"}', tags: '{"room": "a", "floor": 2}', metric: 'm,1', session_id: 'run-7' }),
    );
    expect(line).toBe(
      '2023-11-13T18:26:40.123456Z,1699900000.123456,rig-1,"m,1","{""a"": 1, ""b"": ""x""}","{""room"": ""a"", ""floor"": 2}",run-7\n',
    );
  });

  it('writes an empty value when there is neither a number nor JSON', () => {
    expect(csvLine(row({ value_num: null, value_json: null }))).toBe('2023-11-13T18:26:40.123456Z,1699900000.123456,rig-1,temp,,{},\n');
  });
});

describe('isoMicros', () => {
  it('turns Unix seconds into ISO-8601 with microseconds', () => {
    expect(isoMicros(1_699_900_000.123456)).toBe('2023-11-13T18:26:40.123456Z');
    expect(isoMicros(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(isoMicros(1.0000004)).toBe('1970-01-01T00:00:01.000000Z');
  });
});
