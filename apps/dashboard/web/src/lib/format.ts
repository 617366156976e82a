/** Human times and the query bucket that fits a chart. */

export function relativeTime(iso: string | number | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return 'never';
  const time = typeof iso === 'number' ? iso * 1000 : Date.parse(iso);
  if (Number.isNaN(time)) return 'unknown';
  const seconds = Math.round((now - time) / 1000);
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return dateTime(time);
}

export function dateTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const time = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(time)) return '—';
  return new Date(time).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

export function formatValue(value: unknown): string {
  if (typeof value === 'number')
    return Math.abs(value) >= 1000 || value === Math.round(value) ? String(Math.round(value * 100) / 100) : value.toPrecision(4);
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A value a chart can draw: numbers, and booleans as 0/1. */
export function numeric(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

/**
 * The bucket for `span` milliseconds drawn `width` pixels wide: one bucket per pixel,
 * written in the largest unit the API takes (`500ms`, `2s`, `5m`, `1h`). Undefined when a
 * bucket would be under a millisecond: raw points are then as few as the pixels.
 */
export function bucketFor(spanMs: number, width: number): { bucket: string; ms: number } | undefined {
  const ms = Math.floor(spanMs / Math.max(1, Math.floor(width)));
  if (ms < 1) return undefined;
  if (ms < 1000) return { bucket: `${ms}ms`, ms };
  if (ms < 60_000) return { bucket: `${Math.floor(ms / 1000)}s`, ms: Math.floor(ms / 1000) * 1000 };
  if (ms < 3_600_000) return { bucket: `${Math.floor(ms / 60_000)}m`, ms: Math.floor(ms / 60_000) * 60_000 };
  return { bucket: `${Math.floor(ms / 3_600_000)}h`, ms: Math.floor(ms / 3_600_000) * 3_600_000 };
}
