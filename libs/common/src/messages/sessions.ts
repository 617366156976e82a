export const SESSION_STATUSES = ['active', 'completed', 'failed', 'aborted'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export interface SessionView {
  session_id: string;
  org_id: string;
  source_id: string;
  name: string;
  status: SessionStatus;
  tags: Record<string, unknown>;
  metadata: Record<string, unknown>;
  started_at: string;
  ended_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface SessionDetail extends SessionView {
  point_count: number;
  metrics: string[];
  first_point_at: number | null;
  last_point_at: number | null;
}

export interface CreateSessionRequest {
  org_id: string;
  session_id?: string;
  name?: string;
  source_id: string;
  status?: 'active' | 'started' | 'ended';
  tags?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** Reply: the session, and whether this call created it (201) or found it (200). */
export interface CreateSessionReply {
  created: boolean;
  session: SessionView;
}

export interface UpdateSessionRequest {
  org_id: string;
  session_id: string;
  status?: SessionStatus;
  ended_at?: string;
  name?: string;
  tags?: Record<string, unknown>;
}

export interface ListSessionsRequest {
  org_id: string;
  source_id?: string;
  status?: SessionStatus;
  limit: number;
  cursor?: string;
}

export interface ListSessionsReply {
  sessions: SessionView[];
  next_cursor: string | null;
}

export interface GetSessionRequest {
  org_id: string;
  session_id: string;
}

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportSessionRequest extends GetSessionRequest {
  format: ExportFormat;
}
