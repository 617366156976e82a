import { randomBytes } from 'node:crypto';

/**
 * Names the run's template database; workers inherit the name through the environment. The
 * first medium file to start creates and migrates it (test/support/medium.ts, under an advisory
 * lock), the rest clone it. Not migrated here: Jest loads this file as native ESM without its
 * module mapping, so the migrations (TypeScript importing `.js` paths) cannot be loaded from it.
 */
export default function globalMediumSetup(): void {
  process.env.PLEXUS_TEST_TEMPLATE_DATABASE = `plexus_template_${randomBytes(5).toString('hex')}`;
}
