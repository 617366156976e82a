import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; the tests drive it with playwright-core (no downloaded browsers). */
export const CHROMIUM = process.env.PLEXUS_TEST_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'test-output');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Collects what a page reports as broken: console errors and uncaught exceptions. A step
 * that expects an error (a refused key answers 401, which Chromium logs) says so with `expecting`.
 */
export class PageProblems {
  readonly problems: string[] = [];
  private readonly expected: RegExp[] = [];

  constructor(
    readonly page: Page,
    readonly label: string,
  ) {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (!this.expected.some((pattern) => pattern.test(text))) this.problems.push(`${label} console error: ${text}`);
    });
    page.on('pageerror', (error) => this.problems.push(`${label} page error: ${error.message}`));
  }

  async expecting<T>(pattern: RegExp, step: () => Promise<T>): Promise<T> {
    this.expected.push(pattern);
    try {
      return await step();
    } finally {
      this.expected.splice(this.expected.indexOf(pattern), 1);
    }
  }

  /** Expecting for the rest of the page's life (a page whose key is revoked under it). */
  expect(pattern: RegExp): void {
    this.expected.push(pattern);
  }
}

/** Axe's WCAG 2 A/AA violations on the page as it is now, as "rule: target" lines. */
export async function accessibilityViolations(page: Page): Promise<Array<{ id: string; impact: string; targets: string[] }>> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return result.violations.map((violation) => ({
    id: violation.id,
    impact: String(violation.impact),
    targets: violation.nodes.map((node) => node.target.join(' ')),
  }));
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
