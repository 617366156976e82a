import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { StorageType } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { BrokerConnection, BUCKETS, openBucket, type ListSessionsReply, type ListSessionsRequest, ServicesClient, SUBJECTS } from '#common';
import { RealtimeConfig } from '../config.js';
import type { DeviceConnection } from '../devices/device-connection.js';
import { parseRecording, recordingKey, type StartSessionFrame } from './recording-entry.js';

/** Active sessions of one source looked through for the one it recorded: pages of this many, at most MAX_PAGES. */
const PAGE = 100;
const MAX_PAGES = 10;
const PUT_TIMEOUT_MS = 2000;
/**
 * While the ingest app (or JetStream) cannot say whether the session is still active, the resume
 * is tried again with the device connected: 1 s after the first try, then twice as long each
 * time up to 30 s apart (each wait drawn between half and all of it, so devices that reconnected
 * together do not all ask at once), for 15 minutes at most.
 */
const RESUME_FIRST_RETRY_MS = 1000;
const RESUME_MAX_RETRY_MS = 30_000;
const RESUME_GIVE_UP_MS = 15 * 60_000;

/**
 * Sessions survive a realtime crash: the `start_session` each source was sent is kept in a
 * key-value bucket (not in the memory of the instance that may die) until the session stops.
 * When the device authenticates again, on any instance, and the ingest app (which owns the
 * sessions) still has that session active, the same frame is sent again, so an agent that does
 * not resume on its own (the Python agent 0.3) goes on recording. Our agent takes a repeated
 * start_session for the session it records as a no-op.
 */
@Injectable()
export class ActiveRecordings implements OnModuleInit {
  private readonly logger = new Logger(ActiveRecordings.name);
  private kv?: KV;

  constructor(
    private readonly broker: BrokerConnection,
    private readonly services: ServicesClient,
    private readonly config: RealtimeConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    // File storage: a session outlives a NATS restart, so its resumption must too.
    this.kv = await openBucket(this.broker.nc, BUCKETS.recordings, {
      history: 1,
      storage: StorageType.File,
      replicas: this.config.streamReplicas,
    });
  }

  /** The start_session about to reach the device (its session created): kept until the session stops. */
  async remember(orgId: string, frame: StartSessionFrame): Promise<void> {
    try {
      // Bounded like the device request itself: a JetStream that is away does not hold the command up long.
      await this.bucket().put(recordingKey(orgId, frame.source_id), JSON.stringify(frame), { timeout: PUT_TIMEOUT_MS });
    } catch (error) {
      // The session is recorded anyway; only its resumption after a crash is lost.
      this.logger.warn(`session ${JSON.stringify(frame.session_id)} will not be resumed after a crash: ${(error as Error).message}`);
    }
  }

  /** The session stopped (or never reached the device): nothing to resume, unless a newer one replaced it. */
  async forget(orgId: string, sourceId: string, sessionId: string): Promise<void> {
    const key = recordingKey(orgId, sourceId);
    try {
      const entry = await this.bucket().get(key);
      if (!entry || entry.operation !== 'PUT') return;
      const frame = parseRecording(entry.value, sourceId);
      if (frame && frame.session_id !== sessionId) return;
      // Only what was read: a start_session stored meanwhile stays.
      await this.bucket().delete(key, { previousSeq: entry.revision });
    } catch (error) {
      this.logger.warn(`could not forget session ${JSON.stringify(sessionId)}: ${(error as Error).message}`);
    }
  }

  /**
   * A device has just authenticated: the session it was recording, if still active, is started
   * again. When that cannot be told now (the ingest app or JetStream away), it is tried again
   * while the socket stays open (RESUME_*). Never rejects.
   */
  async resume(device: DeviceConnection): Promise<void> {
    const started = Date.now();
    const pinned: { revision?: number } = {};
    for (let wait = RESUME_FIRST_RETRY_MS; ; wait = Math.min(wait * 2, RESUME_MAX_RETRY_MS)) {
      let problem: string | undefined;
      try {
        problem = await this.resumeSession(device, pinned);
      } catch (error) {
        problem = (error as Error).message;
      }
      if (problem === undefined || !device.socket.open) return;
      // Once when it starts failing and once when it gives up: thousands of devices may be waiting.
      if (wait === RESUME_FIRST_RETRY_MS)
        this.logger.warn(`will retry resuming the session of ${JSON.stringify(device.sourceId)}: ${problem}`);
      if (Date.now() - started > RESUME_GIVE_UP_MS) {
        this.logger.warn(`giving up resuming the session of ${JSON.stringify(device.sourceId)}: ${problem}`);
        return;
      }
      // Not kept alive by this wait: a process shutting down does not wait for it.
      await sleep(wait * (0.5 + Math.random() / 2), undefined, { ref: false });
      if (!device.socket.open) return;
    }
  }

  /**
   * Sends the session again if it is still active; answers why it could not tell, or undefined once
   * decided. `pinned` holds the entry the first read found: one written after it is a start_session
   * this connection was sent as it happened, not one to send again.
   */
  private async resumeSession(device: DeviceConnection, pinned: { revision?: number }): Promise<string | undefined> {
    const key = recordingKey(device.orgId, device.sourceId);
    const entry = await this.bucket().get(key);
    if (!entry || entry.operation !== 'PUT') return undefined;
    pinned.revision ??= entry.revision;
    if (entry.revision !== pinned.revision) return undefined;
    const frame = parseRecording(entry.value, device.sourceId);
    if (!frame) this.logger.warn(`ignoring a recording entry for ${JSON.stringify(device.sourceId)} that is not a start_session for it`);
    let active: boolean | 'unknown' = false;
    try {
      if (frame) active = await this.isActive(device.orgId, device.sourceId, frame.session_id);
    } catch (error) {
      return `cannot tell whether session ${JSON.stringify(frame?.session_id)} is still active: ${(error as Error).message}`;
    }
    if (active === 'unknown') return undefined;
    if (!active || !frame) {
      // Ended meanwhile (by the API, or by a browser while the device was away), or not one of ours: only what was read goes.
      await this.bucket()
        .delete(key, { previousSeq: entry.revision })
        .catch(() => undefined);
      return undefined;
    }
    if (!device.socket.open) return undefined;
    this.logger.log(`sending start_session ${JSON.stringify(frame.session_id)} again to ${JSON.stringify(device.sourceId)}`);
    device.socket.send(JSON.stringify(frame));
    return undefined;
  }

  /**
   * Whether the ingest app has the session active for the source; 'unknown' past MAX_PAGES pages
   * of active sessions. Throws when the ingest app cannot answer now.
   */
  private async isActive(orgId: string, sourceId: string, sessionId: string): Promise<boolean | 'unknown'> {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const request: ListSessionsRequest = { org_id: orgId, source_id: sourceId, status: 'active', limit: PAGE, cursor };
      const reply = await this.services.call<ListSessionsReply>(SUBJECTS.sessions.list, request);
      if (reply.sessions.some((session) => session.session_id === sessionId)) return true;
      if (!reply.next_cursor) return false;
      cursor = reply.next_cursor;
    }
    this.logger.warn(`${JSON.stringify(sourceId)} has over ${PAGE * MAX_PAGES} active sessions; not resuming ${JSON.stringify(sessionId)}`);
    return 'unknown';
  }

  private bucket(): KV {
    if (!this.kv) throw new Error('the recordings bucket is not open yet');
    return this.kv;
  }
}
