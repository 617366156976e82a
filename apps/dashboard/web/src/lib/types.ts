// The wire shapes the dashboard reads (docs/api.md, docs/realtime.md). Field names are snake_case on the wire.
import type { SensorDescription } from '../../../../../libs/common/src/wire/index.js';

export type Scope = 'read' | 'write' | 'control' | 'admin';
export const SCOPES: Scope[] = ['read', 'write', 'control', 'admin'];

export interface VerifiedKey {
  valid: true;
  org_id: string;
  org_name: string;
  key_id: string;
  scopes: Scope[];
}

export interface PlatformConfig {
  ws_url: string;
  version: string;
  endpoint?: string;
}

/** A sensor as its device describes it in `device_auth` (the wire schema's). */
export type Sensor = SensorDescription;

export interface Source {
  source_id: string;
  org_id: string;
  name: string;
  platform: string | null;
  sensors: Sensor[];
  online: boolean;
  created_at: string;
  last_seen: string | null;
}

export type SessionStatus = 'active' | 'completed' | 'failed' | 'aborted';
export const SESSION_STATUSES: SessionStatus[] = ['active', 'completed', 'failed', 'aborted'];

export interface Session {
  session_id: string;
  source_id: string;
  name: string;
  status: SessionStatus;
  started_at: string;
  ended_at: string | null;
}

export interface SessionDetail extends Session {
  point_count: number;
  metrics: string[];
  first_point_at: number | null;
  last_point_at: number | null;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: string;
  last_used_at: string | null;
}

export interface QueryPoint {
  timestamp: number;
  value: unknown;
}

export interface QueryAnswer {
  source_id: string;
  metric: string;
  bucket?: string;
  agg?: string;
  points: QueryPoint[];
}

export interface PairingCode {
  code: string;
  expires_at: string;
}

export interface LivePoint {
  metric: string;
  value: unknown;
  timestamp: number;
}

/*
 * WebSocket frames: defined once, by the wire schema in libs/common. `import type` is erased,
 * so the browser loads none of it; tsconfig.json references the schema's declarations.
 */
export type { BrowserAuthFrame, BrowserToServerFrame, OnlineSource } from '../../../../../libs/common/src/wire/index.js';
import type {
  ALERT_LIMITS,
  AlertFrame,
  ListAlertsReply,
  SEVERITIES,
  ServerToBrowserFrame,
} from '../../../../../libs/common/src/wire/index.js';

/** Every frame the server sends a browser, the org's `alert` frames among them. */
export type Frame = ServerToBrowserFrame | AlertFrame;

/* Alert rules and alerts (docs/alerts.md): the wire's types, defined once in libs/common/src/wire/alerts.ts. */
export type {
  AlertCondition,
  AlertConditionType,
  AlertFrame,
  AlertSeries,
  AlertView,
  RuleInput,
  RulePatch,
  RuleTestInput,
  RuleTestResult,
  RuleTransition,
  RuleView,
  Severity,
  TagMatch,
  WebhookInput,
  WebhookView,
} from '../../../../../libs/common/src/wire/index.js';

/*
 * The wire's SEVERITIES and ALERT_LIMITS as values the browser can hold (a type import carries
 * none); typed by the wire's own constants, so a change there fails this build until copied here.
 */
export const SEVERITY_LEVELS: typeof SEVERITIES = ['info', 'warning', 'critical'];
export const RULE_LIMITS: typeof ALERT_LIMITS = {
  maxNameLength: 256,
  maxMetricLength: 256,
  maxTags: 32,
  maxTagKeyLength: 128,
  maxTagValueLength: 256,
  maxWebhooks: 8,
  maxUrlLength: 2048,
  maxSeconds: 7 * 24 * 3600,
  maxRulesPerOrg: 10_000,
};

/**
 * GET /api/alerts: libs/common/src/messages/alerts.ts (ListAlertsReply), which sits outside the
 * wire declarations the dashboard compiles against; the fields are the same.
 */
/** GET /api/alerts. */
export type AlertList = ListAlertsReply;
