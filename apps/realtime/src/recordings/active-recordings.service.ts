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

  /** A device has just authenticated: the session it was recording, if still active, is started again. Never rejects. */
  async resume(device: DeviceConnection): Promise<void> {
    try {
      await this.resumeSession(device);
    } catch (error) {
      this.logger.warn(`could not resume the session of ${JSON.stringify(device.sourceId)}: ${(error as Error).message}`);
    }
  }

  private async resumeSession(device: DeviceConnection): Promise<void> {
    const key = recordingKey(device.orgId, device.sourceId);
    const entry = await this.bucket().get(key);
    if (!entry || entry.operation !== 'PUT') return;
    const frame = parseRecording(entry.value, device.sourceId);
    if (!frame) this.logger.warn(`ignoring a recording entry for ${JSON.stringify(device.sourceId)} that is not a start_session for it`);
    const active = frame ? await this.isActive(device.orgId, device.sourceId, frame.session_id) : false;
    if (active === undefined) return;
    if (!active || !frame) {
      // Ended meanwhile (by the API, or by a browser while the device was away), or not one of ours: only what was read goes.
      await this.bucket()
        .delete(key, { previousSeq: entry.revision })
        .catch(() => undefined);
      return;
    }
    if (!device.socket.open) return;
    this.logger.log(`sending start_session ${JSON.stringify(frame.session_id)} again to ${JSON.stringify(device.sourceId)}`);
    device.socket.send(JSON.stringify(frame));
  }

  /** Whether the ingest app has the session active for the source; undefined when it cannot say now. */
  private async isActive(orgId: string, sourceId: string, sessionId: string): Promise<boolean | undefined> {
    let cursor: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const request: ListSessionsRequest = { org_id: orgId, source_id: sourceId, status: 'active', limit: PAGE, cursor };
        const reply = await this.services.call<ListSessionsReply>(SUBJECTS.sessions.list, request);
        if (reply.sessions.some((session) => session.session_id === sessionId)) return true;
        if (!reply.next_cursor) return false;
        cursor = reply.next_cursor;
      }
      this.logger.warn(
        `${JSON.stringify(sourceId)} has over ${PAGE * MAX_PAGES} active sessions; not resuming ${JSON.stringify(sessionId)}`,
      );
    } catch (error) {
      this.logger.warn(`cannot tell whether session ${JSON.stringify(sessionId)} is still active: ${(error as Error).message}`);
    }
    return undefined;
  }

  private bucket(): KV {
    if (!this.kv) throw new Error('the recordings bucket is not open yet');
    return this.kv;
  }
}
