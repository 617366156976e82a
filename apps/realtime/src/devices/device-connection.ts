import type { Subscription } from '@nats-io/transport-node';
import type { OnlineSource, SensorDescription } from '#common';
import type { ClientSocket } from '../sockets/client-socket.js';
import type { TokenBucket } from '../sockets/token-bucket.js';

/** A device's live socket on this instance and what it said about itself. */
export interface DeviceConnection {
  socket: ClientSocket;
  orgId: string;
  sourceId: string;
  platform: string | null;
  sensors: SensorDescription[];
  cameras: unknown[];
  connectedAt: string;
  /** Set when authenticated with a legacy API key: that key's revocation closes the socket. */
  keyId?: string;
  rate: TokenBucket;
  /** Closed because the same source connected again (here or elsewhere): it reports no "offline". */
  replaced: boolean;
  subscription?: Subscription;
  lastSeenPublishedAt: number;
}

export function onlineSource(device: DeviceConnection): OnlineSource {
  return {
    source_id: device.sourceId,
    platform: device.platform,
    sensors: device.sensors,
    cameras: device.cameras,
    connected_at: device.connectedAt,
  };
}
