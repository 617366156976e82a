/**
 * PostgreSQL's binary COPY format for rows shaped like storage v2's `points`
 * (series_id int4, time timestamptz, value_num float8, value_json jsonb), encoded by hand so the
 * bench's raw ceiling pays nothing the server would not: no text parsing of numbers or times.
 *
 * Layout (https://www.postgresql.org/docs/15/sql-copy.html, "Binary Format"): an 11-byte
 * signature, int32 flags, int32 header-extension length; per row an int16 field count, then per
 * field an int32 byte length (-1 for NULL) and the bytes; an int16 -1 trailer.
 */

export const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp origin, in Unix microseconds. */
export const PG_EPOCH_UNIX_US = 946_684_800_000_000;

const TWO_POW_32 = 2 ** 32;

export interface NarrowRow {
  seriesId: number;
  /** Unix microseconds, an integer (exact below 2^53, i.e. until year 2255). */
  timeUs: number;
  valueNum: number | null;
  /** JSON text of a non-numeric value; sent with jsonb's binary version byte 1. */
  valueJson: string | null;
}

/** Header: signature, flags 0 (no OIDs), no header extension. */
export function copyHeader(): Buffer {
  const header = Buffer.alloc(COPY_SIGNATURE.length + 8);
  COPY_SIGNATURE.copy(header, 0);
  header.writeInt32BE(0, COPY_SIGNATURE.length);
  header.writeInt32BE(0, COPY_SIGNATURE.length + 4);
  return header;
}

export function copyTrailer(): Buffer {
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  return trailer;
}

function rowBytes(row: NarrowRow): number {
  return 2 + (4 + 4) + (4 + 8) + (4 + (row.valueNum === null ? 0 : 8)) + (4 + (row.valueJson === null ? 0 : 1 + Buffer.byteLength(row.valueJson)));
}

/** Writes one row at `offset`; answers the offset after it. */
function writeRow(buffer: Buffer, offset: number, row: NarrowRow): number {
  let at = buffer.writeInt16BE(4, offset);
  at = buffer.writeInt32BE(4, at);
  at = buffer.writeInt32BE(row.seriesId, at);
  // int64 microseconds since 2000-01-01, written as two 32-bit halves to stay in Number.
  const pgUs = row.timeUs - PG_EPOCH_UNIX_US;
  const high = Math.floor(pgUs / TWO_POW_32);
  at = buffer.writeInt32BE(8, at);
  at = buffer.writeInt32BE(high, at);
  at = buffer.writeUInt32BE(pgUs - high * TWO_POW_32, at);
  if (row.valueNum === null) at = buffer.writeInt32BE(-1, at);
  else {
    at = buffer.writeInt32BE(8, at);
    at = buffer.writeDoubleBE(row.valueNum, at);
  }
  if (row.valueJson === null) at = buffer.writeInt32BE(-1, at);
  else {
    const length = Buffer.byteLength(row.valueJson);
    at = buffer.writeInt32BE(length + 1, at);
    at = buffer.writeUInt8(1, at);
    at += buffer.write(row.valueJson, at);
  }
  return at;
}

/**
 * Encodes rows into chunks of about `chunkBytes`: the first chunk starts with the header, the
 * last ends with the trailer. Lazy, so ten million rows need not sit in memory at once.
 */
export function* encodeNarrowRows(rows: Iterable<NarrowRow>, chunkBytes = 1 << 20): Generator<Buffer> {
  let buffer = Buffer.allocUnsafe(chunkBytes);
  let used = copyHeader().copy(buffer, 0);
  for (const row of rows) {
    const size = rowBytes(row);
    if (used + size > buffer.length) {
      yield buffer.subarray(0, used);
      buffer = Buffer.allocUnsafe(Math.max(chunkBytes, size));
      used = 0;
    }
    used = writeRow(buffer, used, row);
  }
  if (used + 2 > buffer.length) {
    yield buffer.subarray(0, used);
    buffer = Buffer.allocUnsafe(2);
    used = 0;
  }
  used = buffer.writeInt16BE(-1, used);
  yield buffer.subarray(0, used);
}
