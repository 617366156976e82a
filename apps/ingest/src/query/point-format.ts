import { isoFromMicros } from '#common';

/** Rows as the points table returns them for output: JSON kept as text, written out as-is. */
export interface PointRow {
  ts: number;
  source_id: string;
  metric: string;
  value_num: number | null;
  value_json: string | null;
  tags: string;
  session_id: string;
}

export function valueJson(row: Pick<PointRow, 'value_num' | 'value_json'>): string {
  return row.value_num !== null ? String(row.value_num) : (row.value_json ?? 'null');
}

/** One point of a `/api/query` answer: `{ timestamp, value, tags?, session_id? }`. */
export function queryPointJson(row: PointRow): string {
  return (
    `{"timestamp":${row.ts},"value":${valueJson(row)}` +
    (row.tags !== '{}' ? `,"tags":${row.tags}` : '') +
    (row.session_id ? `,"session_id":${JSON.stringify(row.session_id)}` : '') +
    '}'
  );
}

export function ndjsonLine(row: PointRow): string {
  return (
    `{"timestamp":${row.ts},"time":"${isoMicros(row.ts)}","source_id":${JSON.stringify(row.source_id)},` +
    `"metric":${JSON.stringify(row.metric)},"value":${valueJson(row)},"tags":${row.tags},"session_id":${JSON.stringify(row.session_id)}}\n`
  );
}

export const CSV_HEADER = 'time,timestamp,source_id,metric,value,tags,session_id\n';

export function csvLine(row: PointRow): string {
  const value = row.value_num !== null ? String(row.value_num) : csvField(row.value_json ?? '');
  return `${isoMicros(row.ts)},${row.ts},${csvField(row.source_id)},${csvField(row.metric)},${value},${csvField(row.tags)},${csvField(row.session_id)}\n`;
}

/**
 * RFC 4180: quote a field holding a comma, quote or line break; double the quotes. A text field
 * a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a
 * leading `'` first (OWASP CSV injection). Numbers never pass through here: `-3.5` stays a number.
 */
export function csvField(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** Unix seconds → ISO-8601 with microseconds. */
export function isoMicros(ts: number): string {
  return isoFromMicros(Math.round(ts * 1e6));
}
