import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { fileLimitOf, raiseFileLimit } from '../scripts/file-limit.js';

const linux = existsSync('/proc/self/limits');
const withPrlimit = linux && ['/usr/bin/prlimit', '/bin/prlimit'].some((path) => existsSync(path));

describe('open-file limits', () => {
  (linux ? it : it.skip)('reads a process’s soft and hard limit from /proc', () => {
    const limit = fileLimitOf('self');
    expect(limit?.soft).toBeGreaterThan(0);
    expect(limit?.soft).toBeLessThanOrEqual(limit?.hard as number);
  });

  (withPrlimit ? it : it.skip)('raises a running process’s soft limit to its hard limit', async () => {
    const hard = fileLimitOf('self')?.hard as number;
    // A child started with a low soft limit, as many hosts start services.
    const child = spawn('prlimit', [`--nofile=256:${hard}`, 'sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      // prlimit execs sleep in the same process: wait until the limit is the one it set.
      const deadline = Date.now() + 5000;
      while (fileLimitOf(child.pid as number)?.soft !== 256 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(fileLimitOf(child.pid as number)).toEqual({ soft: 256, hard });
      const raised = await raiseFileLimit(child.pid as number);
      expect(raised.problem).toBeUndefined();
      expect(fileLimitOf(child.pid as number)).toEqual({ soft: hard, hard });
    } finally {
      child.kill();
    }
  });
});
