import { PointsCopyEncoder } from '../../apps/ingest/src/points/copy-binary.js';

/** A row shaped like storage v2's `points` (series_id, time, value_num, value_json). */
export interface NarrowRow {
  seriesId: number;
  /** Unix microseconds, an integer (exact below 2^53, i.e. until year 2255). */
  timeUs: number;
  valueNum: number | null;
  /** JSON text of a non-numeric value. */
  valueJson: string | null;
}

/**
 * Rows as a binary COPY stream in chunks of about `chunkBytes`, encoded by the ingest writer's own
 * encoder (so the bench's ceiling pays exactly what the writer's COPY pays). Lazy: ten million
 * rows need not sit in memory at once.
 */
export function* encodeNarrowRows(rows: Iterable<NarrowRow>, chunkBytes = 1 << 20): Generator<Buffer> {
  const encoder = new PointsCopyEncoder(chunkBytes + 4096);
  for (const row of rows) {
    encoder.add(row.seriesId, row.timeUs, row.valueNum, row.valueJson);
    if (encoder.size >= chunkBytes) yield encoder.take();
  }
  yield encoder.finish();
}
