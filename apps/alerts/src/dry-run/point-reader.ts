import type pg from 'pg';

const TIME_US = (param: string) => `timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond'`;
/** A storage series' page is at least this long, however many series a group merges. */
const MIN_SERIES_PAGE = 100;

export interface StoredPoint {
  /** Unix microseconds. */
  timeUs: number;
  /** The number, or the JSON value (string, boolean, object, array) as stored. */
  value: unknown;
  seriesId: number;
}

interface PointRow {
  us: string;
  value_num: number | null;
  value_json: unknown;
}

/** One storage series read in keyset pages of its primary key (series_id, time). */
class SeriesPages {
  private rows: PointRow[] = [];
  private next = 0;
  private afterUs: string | undefined;
  private exhausted = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly sql: string,
    private readonly params: unknown[],
    readonly seriesId: number,
    private readonly pageSize: number,
  ) {}

  /** The next point without taking it; undefined when the series has no more. */
  async peek(): Promise<StoredPoint | undefined> {
    if (this.next === this.rows.length) {
      if (this.exhausted) return undefined;
      const params = [...this.params, this.pageSize, this.afterUs ?? null];
      this.rows = (await this.client.query<PointRow>(this.sql, params)).rows;
      this.next = 0;
      this.exhausted = this.rows.length < this.pageSize;
      if (!this.rows.length) return undefined;
      this.afterUs = this.rows[this.rows.length - 1].us;
    }
    const row = this.rows[this.next];
    return { timeUs: Number(row.us), value: row.value_num ?? row.value_json, seriesId: this.seriesId };
  }

  take(): void {
    this.next++;
  }
}

/**
 * The points of a group of storage series (one source and tag set over several sessions), oldest
 * first (ties by series id), from the documented `telemetry` view, the org's rows only. Each
 * storage series is read on its own with its id as a constant, so PostgreSQL walks its primary
 * key in order and stops at the page's end (measured: a lateral join over the ids instead sorted
 * each series' whole remaining range for every page). The merge keeps one page per series, so
 * its memory is bounded by the page size times the series, at least MIN_SERIES_PAGE each.
 */
export async function* groupPoints(
  client: pg.PoolClient,
  orgId: string,
  seriesIds: readonly number[],
  range: { fromUs?: number; toUs?: number },
  pageSize: number,
): AsyncGenerator<StoredPoint> {
  const base: unknown[] = [orgId];
  let where = '';
  if (range.fromUs !== undefined) where += ` AND time >= ${TIME_US(`$${base.push(range.fromUs) + 1}`)}`;
  if (range.toUs !== undefined) where += ` AND time < ${TIME_US(`$${base.push(range.toUs) + 1}`)}`;
  // $2: the series; then the range; then the page size and the keyset cursor (null on the first page).
  const size = `$${base.length + 2}`;
  const after = `$${base.length + 3}`;
  const sql = `SELECT (extract(epoch FROM time) * 1000000)::bigint::text AS us, value_num, value_json
                 FROM telemetry
                WHERE org_id = $1 AND series_id = $2${where}
                  AND (${after}::bigint IS NULL OR time > ${TIME_US(after)})
                ORDER BY time LIMIT ${size}`;
  const perSeries = Math.max(MIN_SERIES_PAGE, Math.floor(pageSize / seriesIds.length));
  const readers = seriesIds.map((id) => {
    const [org, ...rangeParams] = base;
    return new SeriesPages(client, sql, [org, id, ...rangeParams], id, seriesIds.length === 1 ? pageSize : perSeries);
  });
  if (readers.length === 1) {
    const [only] = readers;
    for (let point; (point = await only.peek()); only.take()) yield point;
    return;
  }
  // A min-heap of the series by their next point.
  const heap: { reader: SeriesPages; point: StoredPoint }[] = [];
  const before = (a: StoredPoint, b: StoredPoint) => a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.seriesId < b.seriesId);
  const up = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i].point, heap[parent].point)) return;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && before(heap[left].point, heap[least].point)) least = left;
      if (right < heap.length && before(heap[right].point, heap[least].point)) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least], heap[i]];
      i = least;
    }
  };
  for (const reader of readers) {
    const point = await reader.peek();
    if (point) {
      heap.push({ reader, point });
      up(heap.length - 1);
    }
  }
  while (heap.length) {
    const top = heap[0];
    yield top.point;
    top.reader.take();
    const point = await top.reader.peek();
    if (point) {
      top.point = point;
    } else {
      const last = heap.pop() as (typeof heap)[number];
      if (!heap.length) return;
      heap[0] = last;
    }
    down(0);
  }
}
