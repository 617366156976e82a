import { describe, expect, it } from '@jest/globals';
import { CommandRunner, type OutputEvent } from './command-runner.js';

function run(command: string): Promise<OutputEvent[]> {
  return new Promise((resolve) => {
    const events: OutputEvent[] = [];
    const runner = new CommandRunner((event) => {
      events.push(event);
      if (event.event === 'exit' || event.event === 'error') resolve(events);
    });
    runner.execute('c1', command);
  });
}

describe('CommandRunner output', () => {
  it('sends one data event per line, joins a line written in pieces, keeps the unterminated tail, all before exit', async () => {
    const events = await run("printf 'one\\ntw'; sleep 0.05; printf 'o\\r\\nthree\\n\\nlast'");
    expect(events.map((event) => (event.event === 'data' ? event.data : event.event))).toEqual([
      'start',
      'one',
      'two',
      'three',
      '',
      'last',
      'exit',
    ]);
    expect(events.at(-1)).toMatchObject({ code: 0 });
  });

  it('reports the exit code after the output of both streams', async () => {
    const events = await run('echo out; echo err >&2; exit 3');
    expect(
      events
        .filter((event) => event.event === 'data')
        .map((event) => (event as { data: string }).data)
        .sort(),
    ).toEqual(['err', 'out']);
    expect(events.at(-1)).toEqual({ type: 'output', id: 'c1', event: 'exit', code: 3 });
  });
});
