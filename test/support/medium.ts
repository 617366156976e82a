import { randomBytes } from 'node:crypto';
import { afterAll } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { type INestApplicationContext, type INestMicroservice, Logger, type LoggerService } from '@nestjs/common';
import { Transport } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import pg from 'pg';
import { waitFor } from './wait-for.js';

/** Where the medium tier's databases live; the same variable the e2e tier reads. */
const PG_ROOT = process.env.PLEXUS_TEST_DATABASE_ROOT || 'postgres://postgres@127.0.0.1:5432';
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
/** Set by test/support/global-medium-setup.ts for every worker. */
const TEMPLATE_VARIABLE = 'PLEXUS_TEST_TEMPLATE_DATABASE';

/**
 * The medium tier's world for one test file: its own database, cloned from the run's migrated
 * template, and its own NATS subject/stream prefix, both removed after the file.
 *
 * App config is read from the environment when an app's modules are first imported, so a file
 * calls `await mediumScope()` first and only then imports app code with `await import(…)`
 * (static imports would run before the environment is set). Jest gives every file its own
 * module registry, so each file's apps see that file's database and prefix.
 */
export interface MediumScope {
  readonly database: string;
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly natsUrl: string;
  /** The file's database, for arranging rows and asserting on what services stored. */
  readonly db: pg.Pool;
  /** A plain NATS connection of the test's own (closed after the file). */
  nats(): Promise<NatsConnection>;
  /**
   * Runs `close` after the file's tests, before the database is dropped (latest registered first).
   * Use it rather than afterAll for anything connected to the file's database or prefix: Jest runs
   * afterAll hooks in the order they were declared, so one declared after mediumScope() would run
   * after the drop.
   */
  onTeardown(close: () => Promise<unknown> | unknown): void;
}

const QUIET: LoggerService = {
  log: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
  // Errors stay visible: a failing medium test should show what the app said.
  error: (message: unknown, ...rest: unknown[]) => console.error(message, ...rest),
};

/** Clones the template into a fresh database, sets DATABASE_URL, NATS_URL and PLEXUS_NATS_PREFIX. */
export async function mediumScope(env: Record<string, string> = {}): Promise<MediumScope> {
  const template = process.env[TEMPLATE_VARIABLE];
  if (!template)
    throw new Error(`${TEMPLATE_VARIABLE} is not set: run medium tests through the "medium" Jest project (npm run test:medium)`);
  // Nest's static Logger (the migrations', the services' own): warnings and errors only.
  Logger.overrideLogger(['error', 'warn']);
  const prefix = `m${randomBytes(5).toString('hex')}`;
  const database = `plexus_test_${prefix}`;
  await ensureTemplate(template);
  await cloneTemplate(database, template);
  const databaseUrl = `${PG_ROOT}/${database}`;
  Object.assign(process.env, { DATABASE_URL: databaseUrl, NATS_URL: NATS_URL, PLEXUS_NATS_PREFIX: prefix, ...env });
  const db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  // An idle client cut off by the DROP … WITH (FORCE) below must not fail the file.
  db.on('error', () => undefined);
  const connections: NatsConnection[] = [];
  const teardowns: (() => Promise<unknown> | unknown)[] = [];

  afterAll(async () => {
    for (const close of teardowns.reverse()) await close();
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await db.end().catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    await deleteStreams(prefix);
  });

  return {
    database,
    databaseUrl,
    prefix,
    natsUrl: NATS_URL,
    db,
    async nats() {
      const nc = await connect({ servers: NATS_URL, name: `plexus-medium-${prefix}` });
      connections.push(nc);
      return nc;
    },
    onTeardown(close) {
      teardowns.push(close);
    },
  };
}

/**
 * The run's migrated template, made by the first file that asks (the others wait on the lock):
 * migrated by the platform's own openDatabase, then closed to connections so it can be cloned.
 */
async function ensureTemplate(template: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${PG_ROOT}/postgres`, application_name: 'plexus-test' });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [template]);
    const { rows } = await admin.query('SELECT datistemplate FROM pg_database WHERE datname = $1', [template]);
    if (rows[0]?.datistemplate) return;
    // Left half-made by a file that failed while migrating it: made again.
    if (rows.length) await admin.query(`DROP DATABASE ${pg.escapeIdentifier(template)} WITH (FORCE)`);
    const { openDatabase } = await import('../../libs/common/src/database/database.js');
    // Two connections: migrate() holds one for its lock while the migrations run on another.
    const dataSource = await openDatabase(`${PG_ROOT}/${template}`, [], 2);
    await dataSource.destroy();
    await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(template)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    // On TimescaleDB its job scheduler connected to the new database and stays (a clone would be
    // refused as long as it does); it does not come back to a database that takes no connections.
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [template]);
  } finally {
    // Ending the session releases the lock too.
    await admin.end();
  }
}

/** Runs one statement on the server's `postgres` database with a short-lived connection. */
async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${PG_ROOT}/postgres`, application_name: 'plexus-test' });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * CREATE DATABASE … TEMPLATE copies files: milliseconds. PostgreSQL refuses it for a moment
 * while another session is connected to the template (55006); the template allows no connections,
 * but two clones starting together can still see each other's, so that case is retried.
 */
async function cloneTemplate(database: string, template: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(database)} TEMPLATE ${pg.escapeIdentifier(template)}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Every JetStream stream of the prefix (the apps name theirs `<prefix>_…`, key-value buckets `KV_<prefix>_…`). */
async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL, timeout: 2000 }).catch(() => undefined);
  if (!nc) return;
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) await jsm.streams.delete(name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

export interface InProcessApp {
  readonly module: TestingModule;
  /** A provider by its class (private constructors included, as BrokerConnection's). */
  get<T>(token: { prototype: T }): T;
  close(): Promise<void>;
}

/**
 * An app's root module in this process, as its main.ts starts it minus the HTTP listener:
 * providers built, onModuleInit run (database opened and migrated, NATS connected, streams made),
 * and with `answersNats` its @MessagePattern/@EventPattern controllers listening on NATS.
 */
export async function startInProcess(rootModule: unknown, options: { answersNats?: boolean } = {}): Promise<InProcessApp> {
  const module = await Test.createTestingModule({ imports: [rootModule as never] })
    .setLogger(QUIET)
    .compile();
  let context: INestApplicationContext | INestMicroservice = module;
  if (options.answersNats) {
    const { ExternalRequestDeserializer } = await import('#common');
    const microservice = module.createNestMicroservice({
      transport: Transport.NATS,
      options: { servers: NATS_URL, deserializer: new ExternalRequestDeserializer(), gracefulShutdown: true, gracePeriod: 200 },
    });
    await microservice.listen();
    context = microservice;
  } else {
    await module.init();
  }
  return {
    module,
    get: (token) => module.get(token as never, { strict: false }),
    close: () => context.close(),
  };
}

/** Collects the messages of a subject from now on (the subject under the file's prefix). */
export async function recorder(
  nc: NatsConnection,
  subject: string,
): Promise<{ messages: unknown[]; next(what: string, where?: (message: unknown) => boolean): Promise<unknown> }> {
  const messages: unknown[] = [];
  nc.subscribe(subject, {
    callback: (_: Error | null, msg: Msg) => {
      messages.push(msg.json());
    },
  });
  await nc.flush();
  let taken = 0;
  return {
    messages,
    // The next message (matching `where`, if given: an event another test published on another
    // connection just before may still reach a subscription made after it).
    async next(what: string, where: (message: unknown) => boolean = () => true) {
      let found = -1;
      await waitFor(what, () => {
        found = messages.findIndex((message, index) => index >= taken && where(message));
        return found >= 0;
      });
      taken = found + 1;
      return messages[found];
    },
  };
}
