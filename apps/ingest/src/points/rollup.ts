/**
 * 1-minute rollups (`points_1m`), kept by the writer in the transaction that stores the points. A batch written straight by COPY is summed up here; a batch that met
 * points already stored is summed up by SQL from the rows actually inserted (points.repository),
 * so a re-sent point is never counted twice. Either way one upsert merges the minute into what
 * is stored (counts and sums added, extremes and first/last kept by time).
 */
export const MINUTE_US = 60_000_000;

export interface MinuteRollup {
  seriesId: number;
  bucketUs: number;
  n: number;
  nNum: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  firstUs: number;
  firstNum: number | null;
  firstJson: string | null;
  lastUs: number;
  lastNum: number | null;
  lastJson: string | null;
}

export class RollupBuilder {
  /** Series id → minute (Unix microseconds) → rollup: numeric keys, nothing allocated per point. */
  private readonly series = new Map<number, Map<number, MinuteRollup>>();
  private last?: MinuteRollup;
  size = 0;

  add(seriesId: number, timeUs: number, num: number | null, json: string | null): void {
    const bucketUs = Math.floor(timeUs / MINUTE_US) * MINUTE_US;
    let r = this.last;
    if (!r || r.seriesId !== seriesId || r.bucketUs !== bucketUs) {
      let minutes = this.series.get(seriesId);
      if (!minutes) this.series.set(seriesId, (minutes = new Map()));
      r = minutes.get(bucketUs);
      if (!r) {
        const created: MinuteRollup = {
          seriesId,
          bucketUs,
          n: 1,
          nNum: num === null ? 0 : 1,
          sum: num,
          min: num,
          max: num,
          firstUs: timeUs,
          firstNum: num,
          firstJson: json,
          lastUs: timeUs,
          lastNum: num,
          lastJson: json,
        };
        minutes.set(bucketUs, created);
        this.last = created;
        this.size++;
        return;
      }
      this.last = r;
    }
    r.n++;
    if (num !== null) {
      r.nNum++;
      r.sum = r.sum === null ? num : r.sum + num;
      r.min = r.min === null || num < r.min ? num : r.min;
      r.max = r.max === null || num > r.max ? num : r.max;
    }
    if (timeUs < r.firstUs) {
      r.firstUs = timeUs;
      r.firstNum = num;
      r.firstJson = json;
    }
    if (timeUs > r.lastUs) {
      r.lastUs = timeUs;
      r.lastNum = num;
      r.lastJson = json;
    }
  }

  /** Parameters of UPSERT_ROLLUPS, ordered by (series, minute) so parallel writers lock rows in one order. */
  parameters(): unknown[][] {
    const rows = [...this.series.values()]
      .flatMap((minutes) => [...minutes.values()])
      .sort((a, b) => a.seriesId - b.seriesId || a.bucketUs - b.bucketUs);
    return [
      rows.map((r) => r.seriesId),
      rows.map((r) => r.bucketUs),
      rows.map((r) => r.n),
      rows.map((r) => r.nNum),
      rows.map((r) => r.sum),
      rows.map((r) => r.min),
      rows.map((r) => r.max),
      rows.map((r) => r.firstUs),
      rows.map((r) => r.firstNum),
      rows.map((r) => r.firstJson),
      rows.map((r) => r.lastUs),
      rows.map((r) => r.lastNum),
      rows.map((r) => r.lastJson),
    ];
  }
}

const US = (column: string) => `timestamptz 'epoch' + ${column} * interval '1 microsecond'`;

/** How a minute already stored takes in more of its points. */
const MERGE = `
  ON CONFLICT (series_id, bucket) DO UPDATE SET
    n          = r.n + excluded.n,
    n_num      = r.n_num + excluded.n_num,
    sum_num    = coalesce(r.sum_num + excluded.sum_num, r.sum_num, excluded.sum_num),
    min_num    = least(r.min_num, excluded.min_num),
    max_num    = greatest(r.max_num, excluded.max_num),
    first_num  = CASE WHEN excluded.first_time < r.first_time THEN excluded.first_num ELSE r.first_num END,
    first_json = CASE WHEN excluded.first_time < r.first_time THEN excluded.first_json ELSE r.first_json END,
    first_time = least(r.first_time, excluded.first_time),
    last_num   = CASE WHEN excluded.last_time > r.last_time THEN excluded.last_num ELSE r.last_num END,
    last_json  = CASE WHEN excluded.last_time > r.last_time THEN excluded.last_json ELSE r.last_json END,
    last_time  = greatest(r.last_time, excluded.last_time)`;

const COLUMNS =
  '(series_id, bucket, n, n_num, sum_num, min_num, max_num, first_time, first_num, first_json, last_time, last_num, last_json)';

/** Merges RollupBuilder.parameters() into points_1m. */
export const UPSERT_ROLLUPS = `
  INSERT INTO points_1m AS r ${COLUMNS}
  SELECT s, ${US('b')}, n, nn, su, mi, ma, ${US('ft')}, fn, fj::jsonb, ${US('lt')}, ln, lj::jsonb
    FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[],
                $8::bigint[], $9::float8[], $10::text[], $11::bigint[], $12::float8[], $13::text[])
      AS t(s, b, n, nn, su, mi, ma, ft, fn, fj, lt, ln, lj)
  ${MERGE}`;

/** Rolls up the rows an INSERT … RETURNING produced (a CTE named `inserted`) and merges them. */
export function upsertRollupsFrom(rollupSelect: string): string {
  return `INSERT INTO points_1m AS r ${COLUMNS} ${rollupSelect} FROM inserted GROUP BY 1, 2 ORDER BY 1, 2 ${MERGE}`;
}
