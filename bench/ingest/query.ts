/**
 * `npm run bench:query` (issue 11, item 4): a 30-day, 1-hour-bucket query over one series of
 * ten million points, before and after storage v2's rollups.
 *
 * Starts pairing, ingest and gateway (fresh database, migrated to storage v2), fills one series
 * with BENCH_QUERY_POINTS points evenly spread over 30 days (10,000,000 → one every 259.2 ms,
 * ~3.86 Hz) by binary COPY into `points`, computes its `points_1m` rows with SQL, then times:
 * - after: GET /api/query?…&bucket=1h&agg=avg|max through the gateway (the API reads points_1m);
 * - points_1m SQL: the same hourly answer from the rollups alone, to show the API's own share;
 * - before: the same aggregate from raw points with SQL, as v1 computed it.
 * Each BENCH_QUERY_RUNS times (default 5) after one untimed warm-up; medians printed. The
 * API's answer is checked against the raw SQL's, bucket by bucket.
 */
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { Platform } from './platform.js';
import { buildRollups, copyPoints, rawBucketsSql, rollupBucketsSql, type SeriesFill, type SqlAggregate } from './query-fill.js';

const POINTS = Number(process.env.BENCH_QUERY_POINTS || 10_000_000);
const RUNS = Number(process.env.BENCH_QUERY_RUNS || 5);
const DAY_US = 86_400_000_000;
const TO_US = Date.UTC(2026, 10, 1) * 1000;
const FROM_US = TO_US - 30 * DAY_US;
const SOURCE_ID = 'query-bench';
const METRIC = 'signal';
const AGGREGATES: SqlAggregate[] = ['avg', 'max'];

interface Bucket {
  ts: number;
  v: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function timed<T>(work: () => Promise<T>): Promise<[number, Awaited<T>]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - started) / 1e6, result];
}

/** One untimed warm-up, then RUNS timed runs; answers the times (ms) and the last answer. */
async function repeat<T>(work: () => Promise<T>): Promise<{ times: number[]; answer: T }> {
  let answer = await work();
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const [time, result] = await timed(work);
    times.push(time);
    answer = result;
  }
  return { times, answer };
}

function apiQuery(platform: Platform, agg: SqlAggregate): () => Promise<Bucket[]> {
  const params = new URLSearchParams({
    source_id: SOURCE_ID,
    metric: METRIC,
    from: new Date(FROM_US / 1000).toISOString(),
    to: new Date(TO_US / 1000).toISOString(),
    bucket: '1h',
    agg,
    limit: '1000',
  });
  const url = `${platform.gateway}/api/query?${params}`;
  return async () => {
    const response = await fetch(url, { headers: { 'x-api-key': platform.adminKey } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`/api/query answered ${response.status}: ${text.slice(0, 500)}`);
    return (JSON.parse(text) as { points: { timestamp: number; value: number }[] }).points.map((p) => ({ ts: p.timestamp, v: p.value }));
  };
}

function sqlQuery(db: pg.Pool, sql: string, seriesId: number): () => Promise<Bucket[]> {
  return async () => (await db.query<Bucket>(sql, [seriesId, FROM_US, TO_US])).rows;
}

/** The API's buckets must be the raw SQL's: same times, values equal up to float summation order. */
function compare(label: string, api: Bucket[], raw: Bucket[], relative: number): string | undefined {
  if (api.length !== raw.length) return `${label}: the API answered ${api.length} buckets, raw SQL ${raw.length}`;
  for (let i = 0; i < api.length; i++) {
    const tolerance = relative * Math.max(1, Math.abs(raw[i].v));
    if (api[i].ts !== raw[i].ts || Math.abs(api[i].v - raw[i].v) > tolerance) {
      return `${label}: bucket ${i} differs: API ${api[i].ts} ${api[i].v}, raw SQL ${raw[i].ts} ${raw[i].v}`;
    }
  }
  return undefined;
}

// Before anything starts: the bench itself keeps 2 cores busy, so only the load it found says
// whether other work shared the machine (a previous run still counts for a minute or so).
const loadBefore = loadavg();
const platform = await Platform.start({ apps: ['pairing', 'ingest', 'gateway'] });
let failed = false;
try {
  const { rows: shape } = await platform.db.query(
    `SELECT to_regclass('series') IS NOT NULL AND to_regclass('points_1m') IS NOT NULL AS v2`,
  );
  if (!shape[0].v2) throw new Error('this database has no `series`/`points_1m`: the query bench needs the storage v2 migration');
  const verify = await platform.api('/api/auth/verify-key');
  const { org_id: orgId } = (await verify.json()) as { org_id: string };
  const stepUs = (TO_US - FROM_US) / POINTS;
  if (!Number.isInteger(stepUs)) throw new Error(`BENCH_QUERY_POINTS=${POINTS} does not divide 30 days into whole microseconds`);
  const { rows: series } = await platform.db.query(
    `INSERT INTO series (org_id, source_id, metric, first_seen_at, last_seen_at)
     VALUES ($1, $2, $3, to_timestamp($4::float8 / 1e6), to_timestamp($5::float8 / 1e6)) RETURNING id`,
    [orgId, SOURCE_ID, METRIC, FROM_US, TO_US - stepUs],
  );
  const fill: SeriesFill = { seriesId: series[0].id, points: POINTS, fromUs: FROM_US, stepUs };
  console.log(`filling one series with ${POINTS.toLocaleString('en-US')} points over 30 days (one every ${stepUs / 1000} ms)…`);
  const copySeconds = await copyPoints(platform.db, fill);
  const rollupSeconds = await buildRollups(platform.db, fill.seriesId);
  const [vacuumMs] = await timed(() => platform.db.query('VACUUM ANALYZE series, points, points_1m'));
  const rollupRows = await platform.count('SELECT count(*) FROM points_1m WHERE series_id = $1', [fill.seriesId]);
  console.log(
    `COPY ${copySeconds.toFixed(1)} s (${Math.round(POINTS / copySeconds).toLocaleString('en-US')} rows/s, encoding included), ` +
      `points_1m ${rollupRows.toLocaleString('en-US')} rows in ${rollupSeconds.toFixed(1)} s, VACUUM ANALYZE ${(vacuumMs / 1000).toFixed(1)} s`,
  );

  const results: Record<string, Record<SqlAggregate, number[]>> = {
    after: { avg: [], max: [] },
    rollupSql: { avg: [], max: [] },
    before: { avg: [], max: [] },
  };
  const mismatches: string[] = [];
  let buckets = 0;
  for (const agg of AGGREGATES) {
    const before = await repeat(sqlQuery(platform.db, rawBucketsSql(agg), fill.seriesId));
    const rollupSql = await repeat(sqlQuery(platform.db, rollupBucketsSql(agg), fill.seriesId));
    const after = await repeat(apiQuery(platform, agg));
    results.before[agg] = before.times;
    results.rollupSql[agg] = rollupSql.times;
    results.after[agg] = after.times;
    buckets = before.answer.length;
    // avg: sums in another order differ in the last bits; max: exact.
    const relative = agg === 'avg' ? 1e-9 : 0;
    for (const mismatch of [
      compare(`agg=${agg} API`, after.answer, before.answer, relative),
      compare(`agg=${agg} points_1m SQL`, rollupSql.answer, before.answer, relative),
    ]) {
      if (mismatch) mismatches.push(mismatch);
    }
  }

  const postgresVersion = (await platform.db.query('SHOW server_version')).rows[0].server_version;
  console.log(
    `\nPlexus query benchmark — one series, ${POINTS.toLocaleString('en-US')} points over 30 days, bucket 1h (${buckets} buckets), ${new Date().toISOString()}`,
  );
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), node ${process.version}, PostgreSQL ${postgresVersion}`);
  console.log(
    `load average when the bench started (1 / 5 / 15 min): ${loadBefore.map((n) => n.toFixed(1)).join(' / ')}` +
      (loadBefore[0] > cpus().length / 2 ? ' — the machine was already busy: times may be high and noisy' : ''),
  );
  console.log(`median of ${RUNS} runs after one warm-up (min–max); target for the API: under 100 ms\n`);
  console.log('| query | agg=avg | agg=max |');
  console.log('|---|---|---|');
  const line = (label: string, key: string) =>
    console.log(
      `| ${label} | ${AGGREGATES.map((agg) => `${ms(median(results[key][agg]))} (${ms(Math.min(...results[key][agg]))}–${ms(Math.max(...results[key][agg]))})`).join(' | ')} |`,
    );
  line('after: GET /api/query through the gateway', 'after');
  line('points_1m SQL alone (hourly from 1-minute rollups)', 'rollupSql');
  line("before: raw points SQL (v1's query: date_bin over points)", 'before');
  const speedup = AGGREGATES.map((agg) => `${agg} ×${(median(results.before[agg]) / median(results.after[agg])).toFixed(1)}`).join(', ');
  console.log(`\nbefore / after (medians): ${speedup}`);
  if (mismatches.length) {
    failed = true;
    console.log(`\nANSWERS DIFFER:\n${mismatches.join('\n')}`);
  } else console.log(`answers checked: the API's ${buckets} buckets equal the raw SQL's (avg within 1e-9 relative, max exact)`);
} finally {
  await platform.stop();
}
if (failed) process.exitCode = 1;
