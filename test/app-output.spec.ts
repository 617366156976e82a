import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { AppOutput, redactKeys, severityOf } from '../scripts/app-output.js';

// What `npm start` shows of the apps' output and what it keeps in the log files (scripts/app-output.ts).
const KEY = 'plx_' + 'A1b2C3d4E5'.repeat(4);
const ESC = '\u001b';
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newOutput(verbose = false) {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-app-output-'));
  dirs.push(dir);
  const shown: string[] = [];
  const output = new AppOutput({ logDir: dir, verbose, print: (app, line) => shown.push(`${app} | ${line}`) });
  return { output, shown, file: (app: string) => readFileSync(join(dir, `${app}.log`), 'utf8') };
}

describe('severityOf', () => {
  it('reads the level of a JSON record and of a coloured text line', () => {
    expect(severityOf('{"level":"warn","pid":1,"message":"slow","context":"X"}', 'stdout')).toBe('warn');
    expect(severityOf('{"level":"fatal","message":"gone"}', 'stdout')).toBe('error');
    expect(severityOf('{"level":"log","message":"fine"}', 'stderr')).toBe('log');
    const text = (level: string) => `${ESC}[33m[Nest] 12972  - ${ESC}[39m12/01/2026, 2:04:34 PM ${ESC}[33m   ${level}${ESC}[39m [Ctx] hi`;
    expect(severityOf(text('WARN'), 'stdout')).toBe('warn');
    expect(severityOf(text('ERROR'), 'stderr')).toBe('error');
    expect(severityOf(text('LOG'), 'stdout')).toBe('log');
    expect(severityOf(text('DEBUG'), 'stdout')).toBe('log');
  });

  it('treats anything else on stderr as an error (a stack frame, a crash printed by Node), on stdout as plain output', () => {
    expect(severityOf('    at main (file:///app/main.js:1:1)', 'stderr')).toBe('error');
    expect(severityOf('{"level":', 'stderr')).toBe('error');
    expect(severityOf('{"level": 3}', 'stdout')).toBe('other');
    expect(severityOf('WARN without the Nest prefix', 'stdout')).toBe('other');
  });
});

describe('AppOutput', () => {
  it('writes every line to the app file, shows warnings and errors only, and keeps the generated admin key out of both', async () => {
    const { output, shown, file } = newOutput();
    output.write('pairing', '[Nest] 1  - 12/01/2026, 2:04:34 PM     LOG [NestFactory] Starting Nest application...', 'stdout');
    output.write(
      'pairing',
      `[Nest] 1  - 12/01/2026, 2:04:34 PM    WARN [BootstrapService] created org "default"; its admin API key (shown once, keep it): ${KEY}`,
    );
    output.write('gateway', `${ESC}[33m[Nest] 2  - 12/01/2026, 2:04:34 PM    WARN [Config] something odd${ESC}[39m`, 'stdout');
    output.write('ingest', 'Error: boom', 'stderr');
    expect(output.adminKey).toBe(KEY);
    expect(shown).toEqual([
      `gateway | ${ESC}[33m[Nest] 2  - 12/01/2026, 2:04:34 PM    WARN [Config] something odd${ESC}[39m`,
      'ingest | Error: boom',
    ]);
    await output.close();
    expect(file('pairing')).toContain('Starting Nest application...');
    expect(file('pairing')).toContain('its admin API key (shown once, keep it): plx_…(redacted)');
    expect(file('pairing')).not.toContain(KEY);
    // Files hold plain text: no colour codes.
    expect(file('gateway')).toBe('[Nest] 2  - 12/01/2026, 2:04:34 PM    WARN [Config] something odd\n');
    expect(file('ingest')).toBe('Error: boom\n');
  });

  it('shows every line with verbose, the key line redacted; takes the key only from pairing', async () => {
    const { output, shown } = newOutput(true);
    output.write('gateway', `{"level":"warn","message":"created org \\"default\\"; its admin API key (shown once, keep it): ${KEY}"}`);
    expect(output.adminKey).toBeUndefined();
    output.write('pairing', `{"level":"log","message":"listening"}`);
    output.write('pairing', `{"level":"warn","message":"created org \\"default\\"; its admin API key (shown once, keep it): ${KEY}"}`);
    expect(output.adminKey).toBe(KEY);
    expect(shown.join('\n')).not.toContain(KEY);
    expect(shown).toHaveLength(3);
    await output.close();
  });

  it('redacts every API key in a line', () => {
    expect(redactKeys(`a ${KEY} b ${KEY}x`)).toBe('a plx_…(redacted) b plx_…(redacted)x');
    expect(redactKeys('plx_short')).toBe('plx_short');
  });
});
