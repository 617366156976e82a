/**
 * bench:alerts' load: bench:ingest's headline shape (batch 1000 × 8 keep-alive clients, the same 20
 * series: sources bench-0…19, bench-k sending metric m(k mod 10), tag rig=a), sent without end
 * until stopped, so the rounds with and without rules can alternate every few seconds under one
 * unbroken load. Bodies are made as they are sent (a run of minutes would not fit in memory made
 * beforehand): the same cost in every window, counted as the bench's CPU.
 */
import { LoadConnection, postRequest } from '../ingest/load-client.js';

/** Unix milliseconds of the load's first point; one point per millisecond after it. */
const BASE_MS = 1_760_000_000_000;

export class EndlessLoad {
  private readonly connections: LoadConnection[];
  private readonly headers: Record<string, string>;
  private next = 0;
  private running = true;
  private readonly done: Promise<void>;
  /** Points answered 200 by the gateway so far. */
  accepted = 0;
  /** Why the load stopped on its own (a request refused or failed). */
  failure?: Error;

  constructor(
    private readonly url: URL,
    apiKey: string,
    private readonly batch = 1000,
    clients = 8,
  ) {
    this.connections = Array.from({ length: clients }, () => new LoadConnection(url));
    this.headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
    this.done = Promise.all(this.connections.map((connection) => this.client(connection))).then(
      () => undefined,
      (error: Error) => {
        this.running = false;
        this.failure = error;
      },
    );
  }

  /** The body of points [first, first + batch): JSON as bench:ingest sends it. */
  private body(first: number): Buffer {
    const parts: string[] = [];
    for (let i = first; i < first + this.batch; i++)
      parts.push(
        `{"metric":"m${i % 10}","value":${i * 0.5},"timestamp":${(BASE_MS + i) / 1000},"source_id":"bench-${i % 20}","tags":{"rig":"a"}}`,
      );
    return Buffer.from(`{"points":[${parts.join(',')}]}`);
  }

  private async client(connection: LoadConnection): Promise<void> {
    while (this.running) {
      const first = this.next;
      this.next += this.batch;
      const status = await connection.send(postRequest(this.url, this.headers, this.body(first)));
      if (status !== 200) throw new Error(`the gateway answered ${status} to a load request`);
      this.accepted += this.batch;
    }
  }

  /** Stops sending; resolves when every request in flight is answered (rejects if one was refused). */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    for (const connection of this.connections) connection.close();
    if (this.failure) throw this.failure;
  }
}
