/**
 * PostgreSQL's binary COPY format for `points` rows (series_id int4, time timestamptz, value_num
 * float8, value_json jsonb). Hand-written rather than a library: it is the writer's hot path,
 * four fixed fields per row written straight into one growing buffer, with no per-value text
 * formatting on our side and no text parsing on PostgreSQL's.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z in Unix microseconds: PostgreSQL's timestamp epoch. */
const PG_EPOCH_US = 946_684_800_000_000;
const TWO_32 = 4_294_967_296;
const JSONB_VERSION = 1;

export class PointsCopyEncoder {
  private buffer: Buffer;
  /** Over `buffer`: DataView's big-endian setters compile to single stores, Buffer's writeInt32BE does not. */
  private view: DataView;
  private length = 0;
  rows = 0;

  /** `reuse`: a buffer of an earlier encoder whose payload is done with, written over (fewer large allocations, fewer major GCs). */
  constructor(initialBytes = 1 << 16, reuse?: Buffer) {
    const bytes = Math.max(initialBytes, 64);
    this.buffer = reuse && reuse.length >= bytes ? reuse : Buffer.allocUnsafe(bytes);
    this.view = viewOf(this.buffer);
    SIGNATURE.copy(this.buffer, 0);
    this.view.setInt32(11, 0); // flags
    this.view.setInt32(15, 0); // header extension length
    this.length = 19;
  }

  /** One row; `json` is the JSON text of a non-numeric value (then `num` is null). */
  add(seriesId: number, timeUs: number, num: number | null, json: string | null): void {
    const jsonBytes = json === null ? 0 : Buffer.byteLength(json);
    this.reserve(2 + 8 + 12 + 12 + 5 + jsonBytes);
    const v = this.view;
    let at = this.length;
    v.setInt16(at, 4);
    v.setInt32(at + 2, 4);
    v.setInt32(at + 6, seriesId);
    v.setInt32(at + 10, 8);
    const pgUs = timeUs - PG_EPOCH_US;
    const high = Math.floor(pgUs / TWO_32);
    v.setInt32(at + 14, high);
    v.setUint32(at + 18, pgUs - high * TWO_32);
    at += 22;
    if (num === null) {
      v.setInt32(at, -1);
      at += 4;
    } else {
      v.setInt32(at, 8);
      v.setFloat64(at + 4, num);
      at += 12;
    }
    if (json === null) {
      v.setInt32(at, -1);
      at += 4;
    } else {
      v.setInt32(at, jsonBytes + 1);
      this.buffer[at + 4] = JSONB_VERSION;
      this.buffer.write(json, at + 5, jsonBytes, 'utf8');
      at += 5 + jsonBytes;
    }
    this.length = at;
    this.rows++;
  }

  /** Bytes encoded so far (the header first), handed over for streaming; encoding goes on after them. */
  take(): Buffer {
    const taken = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    return taken;
  }

  /** Bytes encoded so far. */
  get size(): number {
    return this.length;
  }

  /** The buffer written into, to hand to a later encoder once the payload is done with. */
  get storage(): Buffer {
    return this.buffer;
  }

  /** The whole COPY payload (what take() has not handed over yet), trailer included. The encoder is spent afterwards. */
  finish(): Buffer {
    this.reserve(2);
    this.view.setInt16(this.length, -1);
    this.length += 2;
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
    this.view = viewOf(grown);
  }
}

function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
