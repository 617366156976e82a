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
  private length = 0;
  rows = 0;

  constructor(initialBytes = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(Math.max(initialBytes, 64));
    SIGNATURE.copy(this.buffer, 0);
    this.buffer.writeInt32BE(0, 11); // flags
    this.buffer.writeInt32BE(0, 15); // header extension length
    this.length = 19;
  }

  /** One row; `json` is the JSON text of a non-numeric value (then `num` is null). */
  add(seriesId: number, timeUs: number, num: number | null, json: string | null): void {
    const jsonBytes = json === null ? 0 : Buffer.byteLength(json);
    this.reserve(2 + 8 + 12 + 12 + 5 + jsonBytes);
    const b = this.buffer;
    let at = this.length;
    b.writeInt16BE(4, at);
    b.writeInt32BE(4, at + 2);
    b.writeInt32BE(seriesId, at + 6);
    b.writeInt32BE(8, at + 10);
    const pgUs = timeUs - PG_EPOCH_US;
    const high = Math.floor(pgUs / TWO_32);
    b.writeInt32BE(high, at + 14);
    b.writeUInt32BE(pgUs - high * TWO_32, at + 18);
    at += 22;
    if (num === null) {
      b.writeInt32BE(-1, at);
      at += 4;
    } else {
      b.writeInt32BE(8, at);
      b.writeDoubleBE(num, at + 4);
      at += 12;
    }
    if (json === null) {
      b.writeInt32BE(-1, at);
      at += 4;
    } else {
      b.writeInt32BE(jsonBytes + 1, at);
      b[at + 4] = JSONB_VERSION;
      b.write(json, at + 5, jsonBytes, 'utf8');
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

  /** The whole COPY payload (what take() has not handed over yet), trailer included. The encoder is spent afterwards. */
  finish(): Buffer {
    this.reserve(2);
    this.buffer.writeInt16BE(-1, this.length);
    this.length += 2;
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
