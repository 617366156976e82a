import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Ports for the servers a test or bench starts (apps, private NATS and PostgreSQL, InfluxDB).
 *
 * Asking the kernel for a free port (listen on 0, close, hand the number on) is a race between
 * Jest's workers: the kernel may hand the same number to another worker before our app binds it,
 * and a gateway of another test's platform then answers our realtime port's readiness check (a CI
 * run saw every browser socket of alerts.e2e answered 404). The kernel's own picks also land in
 * the ephemeral range, where any outgoing connection may take them. So a port here is drawn below
 * the ephemeral range and reserved across processes by a file naming its owner's pid; a file of a
 * process that is gone is taken over (a process removes its files at exit where it can: Jest's
 * sandbox does not pass the exit event on, so a run's files stay until taken over).
 */

export const PORT_RESERVATIONS = join(tmpdir(), 'plexus-test-ports');
const FIRST = 20_000;
const held: string[] = [];

function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    if (Number.isInteger(value) && value > FIRST + 1000) return value;
  } catch {
    // not Linux: the IANA dynamic range starts at 49152
  }
  return 49_152;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the reservation file of `port`, or answers false when a live process holds it. */
export function reservePort(port: number): boolean {
  mkdirSync(PORT_RESERVATIONS, { recursive: true });
  const file = join(PORT_RESERVATIONS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (held.length === 0) process.once('exit', release);
      held.push(file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner: number;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // removed meanwhile: try again
      }
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      try {
        unlinkSync(file); // its owner is gone; two takers race on 'wx' above
      } catch {
        // another taker removed it first
      }
    }
  }
  return false;
}

function release(): void {
  for (const file of held.splice(0)) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
}

function bindable(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port no other test process holds and nothing listens on, below the ephemeral range. */
export async function freePort(): Promise<number> {
  const span = ephemeralStart() - FIRST;
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = FIRST + Math.floor(Math.random() * span);
    if (!reservePort(port)) continue;
    if ((await bindable(port, '127.0.0.1')) && (await bindable(port))) return port;
    // Something outside our tests listens there: keep the reservation so no one else tries it.
  }
  throw new Error(`no free port found between ${FIRST} and ${FIRST + span}`);
}
