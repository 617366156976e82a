import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { APPS, type AppName } from './platform-process.js';

export type OutputStream = 'stdout' | 'stderr';
export type Severity = 'error' | 'warn' | 'log' | 'other';

/** An API key as generated (libs/common credentials.ts): never written to a log file. */
const API_KEY = /plx_[A-Za-z0-9]{40}/g;
/** How pairing announces the admin key it generated on an empty database (apps/pairing bootstrap.service.ts). */
const GENERATED_ADMIN_KEY = /admin API key \(shown once, keep it\): (plx_[A-Za-z0-9]{40})/;
/** Nest's text logger: `[Nest] 123  - 12/1/2026, 2:04:34 PM    WARN [Context] message`, coloured. */
const TEXT_LOG_LINE = /^\[Nest\] \d+\s+-\s.*?\s(LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL)\s/;
const ANSI_COLOUR = /\u001b\[[0-9;]*m/g;

/**
 * How severe one line of an app's output is, in either log format (PLEXUS_LOG_FORMAT json or
 * text). A line that is not a log record (a stack trace's frames, a crash printed by Node) is
 * `other`; on stderr it is treated as an error.
 */
export function severityOf(line: string, stream: OutputStream): Severity {
  const plain = line.replace(ANSI_COLOUR, '');
  let level: string | undefined;
  if (plain.startsWith('{')) {
    try {
      const record = JSON.parse(plain) as { level?: unknown };
      if (typeof record.level === 'string') level = record.level;
    } catch {
      // not a JSON record after all
    }
  } else {
    level = TEXT_LOG_LINE.exec(plain)?.[1]?.toLowerCase();
  }
  if (level === 'error' || level === 'fatal') return 'error';
  if (level === 'warn') return 'warn';
  if (level !== undefined) return 'log';
  return stream === 'stderr' ? 'error' : 'other';
}

/** The line with every API key replaced: what may be written to a file or shown on a terminal. */
export function redactKeys(line: string): string {
  return line.replace(API_KEY, 'plx_…(redacted)');
}

export interface AppOutputOptions {
  /** Folder of the full logs, one `<app>.log` each, truncated at each start. */
  logDir: string;
  /** Every line on the terminal too, not only warnings and errors. */
  verbose: boolean;
  /** Writes one line to the terminal. */
  print: (app: string, line: string) => void;
}

/**
 * Where the apps' output goes under `npm start`: every line into the app's log file, warnings,
 * errors and stderr on the terminal (everything with `verbose`). The admin key pairing generates
 * on a first start is taken out of its line — neither the file nor the terminal log line holds
 * it — and kept for the launcher's summary, the one place it is shown.
 */
export class AppOutput {
  private readonly files = new Map<AppName, WriteStream>();
  private generatedKey?: string;

  constructor(private readonly options: AppOutputOptions) {
    mkdirSync(options.logDir, { recursive: true });
    for (const app of APPS) this.files.set(app, createWriteStream(this.logFile(app), { flags: 'w' }));
  }

  logFile(app: AppName): string {
    return join(this.options.logDir, `${app}.log`);
  }

  /** The admin key pairing generated during this start, if it did (an empty database). */
  get adminKey(): string | undefined {
    return this.generatedKey;
  }

  readonly write = (app: AppName, line: string, stream: OutputStream = 'stdout'): void => {
    if (app === 'pairing' && !this.generatedKey) this.generatedKey = GENERATED_ADMIN_KEY.exec(line)?.[1];
    const safe = redactKeys(line);
    this.files.get(app)?.write(`${safe.replace(ANSI_COLOUR, '')}\n`);
    const severity = severityOf(line, stream);
    if (this.options.verbose || severity === 'warn' || severity === 'error') {
      // The key's own announcement is replaced by the summary, where it is shown whole.
      if (!this.options.verbose && GENERATED_ADMIN_KEY.test(line)) return;
      this.options.print(app, safe);
    }
  };

  /** Flushes and closes the files. */
  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((file) => new Promise<void>((resolve) => file.end(resolve))));
  }
}
