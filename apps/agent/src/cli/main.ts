#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError } from './cli-error.js';
import { pair } from './pair.js';
import { run } from './run.js';
import { scan } from './scan.js';
import { send } from './send.js';
import { status } from './status.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const log = (line: string) => process.stdout.write(`${line}\n`);
const collect = (value: string, previous: string[]) => [...previous, value];

const program = new Command('plexus')
  .description('The Plexus device agent: pair this device, stream its sensors, record sessions, run remote commands.')
  .version(version);

program
  .command('pair')
  .description('pair this device with a code from the dashboard ("Pair device")')
  .requiredOption('--code <code>', 'the 6-character pairing code')
  .option('--endpoint <url>', 'the Plexus server (default: PLEXUS_ENDPOINT, the saved one, or http://127.0.0.1:8080)')
  .option('--name <name>', 'a name for this device in the fleet')
  .action((options) => pair(options, log));

program
  .command('run')
  .description('connect and stream; the dashboard starts and stops streams, records sessions, configures sensors')
  .option('--name <name>', 'source id to use when authenticating with an API key')
  .option('--no-sensors', 'do not auto-detect sensors (system and I2C)')
  .option('--simulate', 'add simulated IMU and environment sensors, for machines without hardware')
  .option('--bus <n>', 'I2C bus number', '1')
  .option('--sensor <file>', 'load custom sensors from a JavaScript file (repeatable)', collect, [])
  .option('--no-exec', 'refuse remote commands from the dashboard')
  .action((options) => run(options, log));

program
  .command('send')
  .description('send one value over HTTP (needs an API key: PLEXUS_API_KEY)')
  .argument('<metric>', 'metric name, e.g. temperature')
  .argument('<value>', 'a number, true/false, JSON, or text')
  .option('-t, --tag <key=value>', 'a tag (repeatable)', collect, [])
  .action((metric, value, options) => send(metric, value, options, log));

program
  .command('status')
  .description('show this device’s configuration and whether the server accepts it')
  .action(() => status(log));

program
  .command('scan')
  .description('list the sensors this machine has')
  .option('--bus <n>', 'I2C bus number', '1')
  .action((options) => scan(options, log));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
}
