import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { freePort, PORT_RESERVATIONS, reservePort } from './support/free-port.js';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range, each reserved in this process’s name', async () => {
    const ports = await Promise.all(Array.from({ length: 100 }, () => freePort()));
    expect(new Set(ports).size).toBe(100);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(ephemeralLow);
      expect(readFileSync(join(PORT_RESERVATIONS, String(port)), 'utf8')).toBe(String(process.pid));
    }
  });

  it('leaves a port reserved by a live process alone and takes over one whose owner is gone', async () => {
    const taken = await freePort();
    // The reservation is ours and live: asking for it again is refused.
    expect(reservePort(taken)).toBe(false);
    // Handed to a live process (the one that started Jest), it stays refused.
    writeFileSync(join(PORT_RESERVATIONS, String(taken)), String(process.ppid));
    expect(reservePort(taken)).toBe(false);
    // Handed to a process that has exited, it is taken over.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(PORT_RESERVATIONS, String(taken)), gone.stdout);
    expect(reservePort(taken)).toBe(true);
    expect(readFileSync(join(PORT_RESERVATIONS, String(taken)), 'utf8')).toBe(String(process.pid));
  });
});
