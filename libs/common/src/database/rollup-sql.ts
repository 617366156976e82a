/** The 1-minute rollup of `points` rows, as plain SQL: `INSERT INTO points_1m ${ROLLUP_SELECT} FROM … GROUP BY 1, 2`. */
export const ROLLUP_SELECT = `
  SELECT series_id, date_bin(interval '1 minute', time, timestamptz 'epoch') AS bucket,
         count(*) AS n, count(value_num) AS n_num, sum(value_num) AS sum_num, min(value_num) AS min_num, max(value_num) AS max_num,
         min(time) AS first_time, (array_agg(value_num ORDER BY time))[1] AS first_num, (array_agg(value_json ORDER BY time))[1] AS first_json,
         max(time) AS last_time, (array_agg(value_num ORDER BY time DESC))[1] AS last_num, (array_agg(value_json ORDER BY time DESC))[1] AS last_json`;
