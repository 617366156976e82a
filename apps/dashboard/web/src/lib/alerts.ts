import { useEffect, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { useApp } from './context.js';
import type { Realtime } from './realtime.js';
import type { AlertCondition, AlertFrame, AlertList, AlertView, RuleView, Severity } from './types.js';

const RULES_FRESH_MS = 30_000;

/**
 * The org's alert rules and its count of firing alerts, shared by the top bar, the Alerts page
 * and the charts (which draw the thresholds of the rules on their metric). The count comes from
 * `GET /api/alerts` (`firing`) and follows the `alert` frames; after a reconnect, when frames
 * may have been missed, it is asked again.
 */
export class AlertsStore {
  rules: RuleView[] | undefined;
  /** Undefined until known, and for a key that may not read alerts. */
  firing: number | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly alertListeners = new Set<(frame: AlertFrame) => void>();
  private readonly stops: Array<() => void> = [];
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private wasLive = false;
  /** When the rules were last asked for (ms); 0: never. */
  private rulesAskedAt = 0;

  constructor(
    private readonly api: Api,
    private readonly rt: Realtime,
    /** Rules and alerts need `read`: a key without it asks for neither (and shows no count). */
    private readonly canRead: boolean,
  ) {}

  start(): void {
    if (!this.canRead) {
      this.rules = [];
      return;
    }
    this.stops.push(
      this.rt.listen((frame) => {
        if (frame.type === 'alert') this.receive(frame);
      }),
      this.rt.watch(() => {
        const live = this.rt.state === 'live';
        if (live && !this.wasLive) this.refreshFiring();
        this.wasLive = live;
      }),
    );
    this.refreshFiring();
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    clearTimeout(this.refreshTimer);
  }

  /** Re-renders on any change of the rules or the count. */
  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every `alert` frame, after the count has followed it. */
  onAlert(listener: (frame: AlertFrame) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  /**
   * Loads the rules when a page that draws them opens, unless they were read in the last 30 s:
   * a rule changed elsewhere (another browser, a script) shows on the next page opened after that.
   */
  ensureRules(): void {
    if (!this.canRead || Date.now() - this.rulesAskedAt < RULES_FRESH_MS) return;
    void this.reloadRules().catch(() => undefined);
  }

  async reloadRules(): Promise<RuleView[]> {
    this.rulesAskedAt = Date.now();
    try {
      const { rules } = await this.api.get<{ rules: RuleView[] }>('/api/rules');
      this.rules = rules;
      this.notify();
      return rules;
    } catch (error) {
      // A key without `read` (or an older gateway): no thresholds to draw, the page says why.
      this.rules ??= [];
      this.notify();
      throw error;
    }
  }

  /** After this browser changed a rule: the list as the server now has it, without asking again. */
  putRule(rule: RuleView): void {
    const rules = this.rules ?? [];
    this.rules = rules.some((r) => r.id === rule.id) ? rules.map((r) => (r.id === rule.id ? rule : r)) : [...rules, rule];
    this.notify();
  }

  dropRule(id: string): void {
    this.rules = (this.rules ?? []).filter((r) => r.id !== id);
    this.notify();
  }

  setFiring(count: number): void {
    if (count === this.firing) return;
    this.firing = count;
    this.notify();
  }

  private refreshFiring(): void {
    this.api.get<AlertList>('/api/alerts', { state: 'firing', limit: 1 }).then(
      (list) => this.setFiring(list.firing),
      () => undefined,
    );
  }

  private receive(frame: AlertFrame): void {
    if (this.firing !== undefined) {
      if (frame.event === 'fired') this.setFiring(this.firing + 1);
      else if (frame.event === 'resolved') this.setFiring(Math.max(0, this.firing - 1));
    }
    // The frames move the count at once; a request shortly after corrects it (a missed or repeated frame).
    if (frame.event !== 'acknowledged') {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => this.refreshFiring(), 1500);
    }
    for (const listener of this.alertListeners) listener(frame);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** Re-renders when the rules or the firing count change; loads the rules if `rules` is set. */
export function useAlerts(options: { rules?: boolean } = {}): AlertsStore {
  const { alerts } = useApp();
  const [, setChanges] = useState(0);
  useEffect(() => alerts.watch(() => setChanges((n) => n + 1)), [alerts]);
  useEffect(() => {
    if (options.rules) alerts.ensureRules();
  }, [alerts, options.rules]);
  return alerts;
}

/** A horizontal line on a chart: a rule's threshold (or one end of its range). */
export interface Threshold {
  value: number;
  label: string;
  severity: Severity;
}

/**
 * The lines the rules draw on a chart of `metric` for `sourceId`: enabled threshold rules on that
 * metric for that source or for every source (a rule narrowed by tags watches some of the chart's
 * series, so it is drawn too).
 */
export function thresholdsFor(rules: readonly RuleView[] | undefined, sourceId: string, metric: string): Threshold[] {
  const lines: Threshold[] = [];
  for (const rule of rules ?? []) {
    if (!rule.enabled || rule.metric !== metric || (rule.source_id !== null && rule.source_id !== sourceId)) continue;
    const { condition } = rule;
    const label = `${rule.name}: ${conditionText(condition)}`;
    if (condition.type === 'above' || condition.type === 'below')
      lines.push({ value: condition.threshold, label, severity: rule.severity });
    else if (condition.type === 'outside' || condition.type === 'inside') {
      lines.push({ value: condition.low, label, severity: rule.severity });
      if (condition.high !== condition.low) lines.push({ value: condition.high, label, severity: rule.severity });
    }
  }
  return lines;
}

/** The threshold lines for one chart, following the rules as they change. */
export function useThresholds(sourceId: string, metric: string): Threshold[] {
  const store = useAlerts({ rules: true });
  return thresholdsFor(store.rules, sourceId, metric);
}

export function conditionText(condition: AlertCondition): string {
  switch (condition.type) {
    case 'above':
      return `above ${condition.threshold}`;
    case 'below':
      return `below ${condition.threshold}`;
    case 'outside':
      return `outside ${condition.low} … ${condition.high}`;
    case 'inside':
      return `inside ${condition.low} … ${condition.high}`;
    case 'no_data':
      return `no data for ${condition.seconds} s`;
    case 'offline':
      return `offline for ${condition.seconds} s`;
  }
}

export const SEVERITY_COLORS: Record<Severity, string> = { info: '#0a7ea4', warning: '#b35900', critical: '#cf222e' };

/** A firing list after an `alert` frame: fired ones join at the top, resolved ones leave, others change in place. */
export function applyToFiring(alerts: AlertView[], frame: AlertFrame): AlertView[] {
  const rest = alerts.filter((alert) => alert.id !== frame.alert.id);
  if (frame.alert.state !== 'firing') return rest;
  return alerts.some((alert) => alert.id === frame.alert.id)
    ? alerts.map((alert) => (alert.id === frame.alert.id ? frame.alert : alert))
    : [frame.alert, ...rest];
}

/** The history after an `alert` frame: a new alert at the top, a known one updated in place. */
export function applyToHistory(alerts: AlertView[], frame: AlertFrame): AlertView[] {
  return alerts.some((alert) => alert.id === frame.alert.id)
    ? alerts.map((alert) => (alert.id === frame.alert.id ? frame.alert : alert))
    : frame.event === 'fired'
      ? [frame.alert, ...alerts]
      : alerts;
}

/** `source · metric · key=value …` as text. */
export function seriesText(series: { source_id: string; metric: string | null; tags: Record<string, unknown> | null }): string {
  const tags = Object.entries(series.tags ?? {}).map(([key, value]) => `${key}=${String(value)}`);
  return [series.source_id, series.metric, ...tags].filter(Boolean).join(' · ');
}

/** What a rule watches, as text. */
export function watchesText(rule: RuleView): string {
  const tags = Object.entries(rule.tags ?? {}).map(([key, value]) => `${key}=${String(value)}`);
  return [rule.source_id ?? 'every source', rule.metric, ...tags].filter(Boolean).join(' · ');
}
