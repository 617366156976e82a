import type { Principal } from '#common';
import type { ClientSocket } from '../sockets/client-socket.js';
import type { TokenBucket } from '../sockets/token-bucket.js';

/** A dashboard's socket: whose key it uses and which sources it watches (null: the whole org). */
export interface BrowserConnection {
  socket: ClientSocket;
  principal: Principal;
  watching: Set<string> | null;
  /** Shell `output` reaches only browsers whose key has `admin`. */
  admin: boolean;
  rate: TokenBucket;
}
