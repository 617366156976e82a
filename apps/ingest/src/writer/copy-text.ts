/** PostgreSQL COPY text format: `\N` is NULL; backslash, tab, newline and carriage return are escaped. */
const SPECIAL = /[\\\t\n\r]/;

export function copyText(value: string): string {
  if (!SPECIAL.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export const COPY_NULL = '\\N';
