import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import {
  type AlertSeries,
  DomainError,
  isConnectionFailure,
  isoFromMicros,
  poolOf,
  type RuleTestResult,
  type RuleTransition,
} from '#common';
import { compileRule, type CompiledRule } from '../evaluation/rule-matcher.js';
import { newSeriesState, onPoint, onTick, onTickBefore, type Transition } from '../evaluation/series-state.js';
import { type DryRunRequest, type DryRunScope, parseDryRunRequest } from './dry-run-request.js';
import { groupPoints } from './point-reader.js';

/** The bounds of a dry run (docs/alerts.md, "Dry run"). A provider, so a test can make them small. */
export interface DryRunLimits {
  /** Points read at most; past it the answer says `truncated`. */
  maxPoints: number;
  /** Series (source and tag set) read at most. */
  maxSeries: number;
  /** Transitions answered at most, and their size as JSON: the reply is one NATS message. */
  maxTransitions: number;
  maxReplyBytes: number;
  /** Points per database page. */
  pageSize: number;
  /** Each statement of a dry run is cancelled past this. */
  statementTimeoutMs: number;
  /** A dry run stops reading (and answers `truncated`) past this. */
  budgetMs: number;
  /** Dry runs at once per instance; one more is answered 503 at once. */
  concurrency: number;
}

export const DRY_RUN_LIMITS = Symbol('DRY_RUN_LIMITS');

export const DEFAULT_DRY_RUN_LIMITS: DryRunLimits = {
  maxPoints: 1_000_000,
  maxSeries: 10_000,
  maxTransitions: 10_000,
  // NATS max_payload is 1 MiB by default; the rest is room for the reply's envelope.
  maxReplyBytes: 768 * 1024,
  pageSize: 5000,
  statementTimeoutMs: 10_000,
  budgetMs: 20_000,
  concurrency: 2,
};

const QUERY_CANCELED = '57014';
/** Bytes of a transition's JSON besides its series: {"at":"…","series":…,"from":"pending","to":"firing","value":-1.2345678901234567e-300}. */
const TRANSITION_OVERHEAD_BYTES = 128;

interface SeriesRow {
  id: number;
  source_id: string;
  tags: Record<string, unknown>;
}

/** One series as a rule sees it: a source and tag set, over every session that recorded it (storage series). */
interface RuleSeries {
  series: AlertSeries;
  seriesIds: number[];
  bytes: number;
}

interface Run {
  rule: CompiledRule;
  transitions: { at: number; order: number; transition: RuleTransition }[];
  pointsEvaluated: number;
  seriesWithPoints: number;
  replyBytes: number;
  truncated: boolean;
  deadline: number;
}

/**
 * POST /api/rules/test: runs a rule that is not saved over stored points — a time range of the
 * org, or one recorded session — with the same state machine as the live evaluation, and answers
 * the transitions it would have made. Reads the documented `telemetry` view (and `series`), in
 * keyset pages inside one read-only transaction with a statement timeout.
 */
@Injectable()
export class DryRunService {
  private readonly logger = new Logger(DryRunService.name);
  private readonly limits: DryRunLimits;
  private running = 0;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Optional() @Inject(DRY_RUN_LIMITS) limits?: Partial<DryRunLimits>,
  ) {
    this.limits = { ...DEFAULT_DRY_RUN_LIMITS, ...limits };
  }

  async run(request: unknown): Promise<RuleTestResult> {
    const parsed = parseDryRunRequest(request, Date.now() * 1000);
    if (this.running >= this.limits.concurrency) {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        `too many dry runs in progress (${this.limits.concurrency} at once); retry shortly`,
        undefined,
        1,
      );
    }
    this.running++;
    let client: pg.PoolClient | undefined;
    let failed: Error | undefined;
    try {
      client = await poolOf(this.dataSource).connect();
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.trunc(this.limits.statementTimeoutMs)}`);
      return await this.evaluate(client, parsed);
    } catch (error) {
      failed = error as Error;
      throw this.failure(error);
    } finally {
      this.running--;
      if (client) {
        // A connection that failed in PostgreSQL's hands is dropped rather than reused.
        const broken = failed && !(failed instanceof DomainError) ? failed : undefined;
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        client.release(broken);
      }
    }
  }

  /** A failed read as its caller should see it: busy or away → 503 (retry), out of range → 400; anything else is a bug. */
  private failure(error: unknown): unknown {
    if (error instanceof DomainError) return error;
    const code = (error as { code?: unknown })?.code;
    if (code === QUERY_CANCELED) {
      return new DomainError(
        'SERVICE_UNAVAILABLE',
        `the dry run's reading took longer than its statement timeout (${this.limits.statementTimeoutMs} ms); try a shorter range`,
      );
    }
    if (typeof code === 'string' && code.startsWith('22'))
      return new DomainError('BAD_REQUEST', 'a value of the request is out of range for the database');
    if (isConnectionFailure(error))
      return new DomainError('SERVICE_UNAVAILABLE', 'the database is unavailable; retry shortly', undefined, 1);
    return error;
  }

  private async evaluate(client: pg.PoolClient, request: DryRunRequest): Promise<RuleTestResult> {
    const rule = compileRule({ id: 'dry-run', for_seconds: 0, source_id: null, tags: null, metric: null, ...request.rule });
    const nowMs = Date.now();
    const { sessionId, fromUs, toUs, endMs } = await this.readScope(client, request.orgId, request.scope, nowMs);
    const run: Run = {
      rule,
      transitions: [],
      pointsEvaluated: 0,
      seriesWithPoints: 0,
      replyBytes: 0,
      truncated: false,
      deadline: nowMs + this.limits.budgetMs,
    };
    const groups = await this.ruleSeries(client, request.orgId, rule, sessionId, run);
    for (const group of groups) {
      const complete = await this.evaluateSeries(client, request.orgId, group, { fromUs, toUs, endMs }, run);
      if (!complete) break;
    }
    run.transitions.sort((a, b) => a.at - b.at || a.order - b.order);
    return {
      transitions: run.transitions.map((entry) => entry.transition),
      points_evaluated: run.pointsEvaluated,
      series: run.seriesWithPoints,
      truncated: run.truncated,
    };
  }

  /** A range as given; a session: every point it recorded, its silence counted up to its end (or now). */
  private async readScope(
    client: pg.PoolClient,
    orgId: string,
    scope: DryRunScope,
    nowMs: number,
  ): Promise<{ sessionId?: string; fromUs?: number; toUs?: number; endMs: number }> {
    if (scope.kind === 'range') return { fromUs: scope.fromUs, toUs: scope.toUs, endMs: Math.min(scope.toUs / 1000, nowMs) };
    const { rows } = await client.query<{ end_ms: number }>(
      `SELECT (extract(epoch FROM coalesce(ended_at, now())) * 1000)::float8 AS end_ms FROM sessions WHERE org_id = $1 AND id = $2`,
      [orgId, scope.sessionId],
    );
    if (!rows[0])
      throw new DomainError('NOT_FOUND', `session "${scope.sessionId}" not found`, [{ field: 'session_id', message: 'not found' }]);
    return { sessionId: scope.sessionId, endMs: Math.min(rows[0].end_ms, nowMs) };
  }

  /**
   * The series the rule watches, grouped as the live evaluation sees them: one per source and tag
   * set (a session's points are stored as series of their own; for the rule they continue the
   * source's). Tags are matched here, with the rule's own `watches`.
   */
  private async ruleSeries(
    client: pg.PoolClient,
    orgId: string,
    rule: CompiledRule,
    sessionId: string | undefined,
    run: Run,
  ): Promise<RuleSeries[]> {
    const params: unknown[] = [orgId, rule.metric, this.limits.maxSeries + 1];
    let where = 'org_id = $1 AND metric = $2';
    if (rule.sourceId !== null) where += ` AND source_id = $${params.push(rule.sourceId)}`;
    if (sessionId !== undefined) where += ` AND session_id = $${params.push(sessionId)}`;
    const { rows } = await client.query<SeriesRow>(
      `SELECT id, source_id, tags FROM series WHERE ${where} ORDER BY source_id, id LIMIT $3`,
      params,
    );
    if (rows.length > this.limits.maxSeries) {
      run.truncated = true;
      rows.length = this.limits.maxSeries;
    }
    const groups = new Map<string, RuleSeries>();
    for (const row of rows) {
      if (!rule.watches(row.source_id, rule.metric, row.tags)) continue;
      // jsonb prints equal values alike (keys in its own order), so this is the tag set's identity.
      const key = `${row.source_id}\u0000${JSON.stringify(row.tags)}`;
      const group = groups.get(key);
      if (group) {
        group.seriesIds.push(row.id);
        continue;
      }
      const series: AlertSeries = { source_id: row.source_id, metric: rule.metric, tags: Object.keys(row.tags).length ? row.tags : null };
      groups.set(key, { series, seriesIds: [row.id], bytes: Buffer.byteLength(JSON.stringify(series)) + TRANSITION_OVERHEAD_BYTES });
    }
    return [...groups.values()];
  }

  /**
   * Feeds one series' points, oldest first, through the state machine. no_data: the silence
   * before each point is ticked first (a gap longer than `seconds` fires at last + seconds), and
   * after the last point up to the scope's end. Answers false when a bound stopped the run.
   */
  private async evaluateSeries(
    client: pg.PoolClient,
    orgId: string,
    group: RuleSeries,
    range: { fromUs?: number; toUs?: number; endMs: number },
    run: Run,
  ): Promise<boolean> {
    const { rule } = run;
    const state = newSeriesState(0);
    let seenAny = false;
    for await (const point of groupPoints(client, orgId, group.seriesIds, range, this.limits.pageSize)) {
      if (run.pointsEvaluated >= this.limits.maxPoints || Date.now() > run.deadline) {
        run.truncated = true;
        if (run.pointsEvaluated < this.limits.maxPoints) {
          this.logger.warn(`a dry run of org ${orgId} stopped after ${this.limits.budgetMs} ms and ${run.pointsEvaluated} points`);
        }
        return false;
      }
      if (!seenAny) {
        seenAny = true;
        run.seriesWithPoints++;
      }
      const timeMs = point.timeUs / 1000;
      if (rule.type === 'no_data') {
        for (let step; (step = onTickBefore(rule, state, timeMs));) if (!this.record(run, group, step)) return false;
      }
      run.pointsEvaluated++;
      const step = onPoint(rule, state, timeMs, point.value, timeMs);
      if (step && !this.record(run, group, step)) return false;
    }
    if (rule.type === 'no_data') {
      for (let step; (step = onTick(rule, state, range.endMs));) if (!this.record(run, group, step)) return false;
    }
    return true;
  }

  /** Keeps a transition; false (and `truncated`) when the answer would grow past its bounds. */
  private record(run: Run, group: RuleSeries, step: Transition): boolean {
    if (run.transitions.length >= this.limits.maxTransitions || run.replyBytes + group.bytes > this.limits.maxReplyBytes) {
      run.truncated = true;
      return false;
    }
    run.replyBytes += group.bytes;
    run.transitions.push({
      at: step.at,
      order: run.transitions.length,
      transition: { at: isoFromMicros(Math.round(step.at * 1000)), series: group.series, from: step.from, to: step.to, value: step.value },
    });
    return true;
  }
}
