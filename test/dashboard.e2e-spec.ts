import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AgentProcess } from './support/agent-process.js';
import { accessibilityViolations, launchChromium, PageProblems, screenshot } from './support/browser.js';
import { Platform, randomApiKey } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// The dashboard in Debian's Chromium against the whole platform and a simulated `plexus` agent.
// Each test leaves a screenshot in test-output/. Run `npm run build` first (npm test does).

/** The axe rules every page must pass (WCAG 2 A/AA). */
const REQUIRED_RULES = ['label', 'color-contrast', 'button-name', 'link-name'];
/** Chromium logs every refused request; where a refusal is the point of the step it is expected. */
const UNAUTHORIZED_LOG = /status of 401/;

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;
const agent = new AgentProcess();
const others: BrowserContext[] = [];
let sourceId: string;

beforeAll(async () => {
  [platform, browser] = await Promise.all([Platform.start({ env: { PLEXUS_BOOTSTRAP_ORG_NAME: 'Rig Lab' } }), launchChromium()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  problems = new PageProblems(page, 'admin page');
}, 120_000);

afterAll(async () => {
  await agent.stop();
  for (const other of others) await other.close().catch(() => undefined);
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await platform?.stop();
});

async function expectAccessible(target: Page, where: string): Promise<void> {
  const violations = await accessibilityViolations(target);
  expect({ where, violations: violations.filter((v) => REQUIRED_RULES.includes(v.id)) }).toEqual({ where, violations: [] });
  // The rest of WCAG 2 A/AA too: a regression here is as real.
  expect({ where, violations }).toEqual({ where, violations: [] });
}

function expectNoProblems(watch: PageProblems = problems): void {
  expect(watch.problems).toEqual([]);
}

/** A numeric data attribute reaching a threshold, checked in the page. */
function attributeAbove(selector: string, attribute: string, threshold: number, timeout = 15_000) {
  return page.waitForFunction(
    `Number(document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(attribute)})) > ${threshold}`,
    undefined,
    { timeout },
  );
}

describe('the web dashboard', () => {
  it('is served by the gateway, signs in, pairs a device from the UI and shows it coming online', async () => {
    // The gateway serves the page at client-side routes, its modules and the vendor files, and nothing else.
    const served = async (path: string) => {
      const response = await fetch(`${platform.gateway}${path}`);
      await response.arrayBuffer();
      return [response.status, response.headers.get('content-type')?.split(';')[0]];
    };
    expect(await served('/')).toEqual([200, 'text/html']);
    expect(await served('/sessions/some-session')).toEqual([200, 'text/html']);
    expect(await served('/devices/lab.pi-2')).toEqual([200, 'text/html']);
    expect(await served('/assets/main.js')).toEqual([200, 'text/javascript']);
    expect(await served('/vendor/preact.module.js')).toEqual([200, 'text/javascript']);
    expect(await served('/vendor/uPlot.min.css')).toEqual([200, 'text/css']);
    for (const path of [
      '/api/no-such-route',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/vendor/..%2fpackage.json',
      '/vendor/preact.js',
      '/favicon.ico',
    ]) {
      expect([path, ...(await served(path))]).toEqual([path, 404, 'application/json']);
    }
    expect(await served('/api/config')).toEqual([200, 'application/json']);

    await page.goto(`${platform.gateway}/`);
    await page.getByRole('heading', { name: 'Sign in to Plexus' }).waitFor();
    await expectAccessible(page, 'sign-in');

    // A key the server does not know: a sentence, not a stack trace.
    await problems.expecting(UNAUTHORIZED_LOG, async () => {
      await page.getByLabel('API key').fill(randomApiKey());
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('This API key was not accepted').waitFor();
    });

    await page.getByLabel('API key').fill(platform.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No devices yet' }).waitFor();
    // The org's name is in view (its id is in the tooltip).
    await page.locator('[data-org="default"]', { hasText: 'Rig Lab' }).waitFor();
    await page.locator('[data-connection="live"]').waitFor();
    await expectAccessible(page, 'empty fleet');

    await page.getByRole('button', { name: 'Pair device' }).click();
    await page.getByLabel('Device name (optional)').fill('Bench Pi');
    await page.getByRole('button', { name: 'Get a pairing code' }).click();
    const code = (await page.locator('[data-pairing-code]').getAttribute('data-pairing-code')) as string;
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    await page.getByText(`curl -sL ${platform.gateway}/setup | bash -s -- --code ${code}`).waitFor();
    await page.getByText(`plexus pair --code ${code} --endpoint ${platform.gateway}`).waitFor();
    await expectAccessible(page, 'pairing code');

    await agent.pair(code, platform.gateway);
    await page.locator('[data-pair-step="paired"] [data-paired-source]').waitFor();
    sourceId = (await page.locator('[data-paired-source]').getAttribute('data-paired-source')) as string;
    await page.locator(`.device-card[data-source="${sourceId}"][data-online="false"]`).waitFor();

    agent.start();
    await page.locator(`.device-card[data-source="${sourceId}"][data-online="true"]`).waitFor({ timeout: 20_000 });
    await page.locator('[data-pair-step="paired"] .pill-online').waitFor();
    await screenshot(page, 'dashboard-1-fleet-paired');
    await expectAccessible(page, 'fleet with a paired device');
    expectNoProblems();
  }, 60_000);

  it('streams live telemetry into scrolling charts and changes a sample rate', async () => {
    await page.getByRole('link', { name: 'Open device' }).click();
    await page.getByRole('heading', { name: 'Live view' }).waitFor();
    await expectAccessible(page, 'device page');

    await page.getByRole('button', { name: 'Start stream' }).click();
    await page.locator('[data-streaming="true"]').waitFor();
    for (const metric of ['accel_x', 'accel_y', 'accel_z']) await attributeAbove(`.live-chart[data-metric="${metric}"]`, 'data-points', 40);
    await page.locator('.live-chart[data-metric="accel_x"] .chart-readout', { hasText: 'pt/s' }).waitFor();

    // The charts redraw on animation frames while points pour in: count frames for a second.
    const frames = (await page.evaluate(
      `new Promise((resolve) => { let n = 0; const end = performance.now() + 1000; const tick = () => { n++; if (performance.now() < end) requestAnimationFrame(tick); else resolve(n); }; requestAnimationFrame(tick); })`,
    )) as number;
    expect(frames).toBeGreaterThan(10);

    await page.getByLabel('Sample rate (Hz)').first().fill('100');
    await page.getByRole('button', { name: 'Apply sample rate for SimulatedIMU' }).click();
    await page.getByText('Asked the device to sample SimulatedIMU at 100 Hz.').waitFor();
    // At 100 Hz the readout climbs past what 50 Hz can give.
    await page.waitForFunction(
      `Number(/(\\d+) pt\\/s/.exec(document.querySelector('.live-chart[data-metric="accel_x"] .chart-readout')?.textContent ?? '')?.[1]) > 70`,
      undefined,
      {
        timeout: 15_000,
      },
    );
    await screenshot(page, 'dashboard-2-live-stream');
    await expectAccessible(page, 'device page while streaming');

    await page.getByRole('button', { name: 'Stop stream' }).click();
    await page.locator('[data-streaming="false"]').waitFor();
    expectNoProblems();
  }, 60_000);

  it('records a session, stops it, opens it, plays it back and exports it', async () => {
    await page.getByLabel('Session name').fill('Motor test');
    await page.getByRole('button', { name: 'Start recording' }).click();
    await page.locator('[data-recording="recording"]').waitFor();
    const sessionHref = (await page.getByRole('link', { name: 'open session' }).getAttribute('href')) as string;
    const sessionId = decodeURIComponent(sessionHref.split('/').pop() as string);
    // A second or two of recording: the simulated IMU gives 300 points a second.
    await waitFor(
      'recorded points',
      async () => (await platform.count(`SELECT count(*) FROM telemetry WHERE session_id = $1`, [sessionId])) > 500,
      20_000,
    );

    await page.getByRole('button', { name: 'Stop recording' }).click();
    await page.locator(`[data-saved-session="${sessionId}"]`).waitFor();
    await waitFor(
      'the session completed',
      async () => ((await (await platform.api(`/api/sessions/${sessionId}`)).json()) as { status: string }).status === 'completed',
    );
    await platform.drained();
    const { point_count: pointCount } = (await (await platform.api(`/api/sessions/${sessionId}`)).json()) as { point_count: number };

    await page.locator(`[data-saved-session="${sessionId}"]`).click();
    await page.getByRole('heading', { name: 'Motor test' }).waitFor();
    await page.locator(`[data-point-count="${pointCount}"]`).waitFor();
    await attributeAbove('.chart[data-metric="accel_x"]', 'data-points', 10);

    // Playback moves the time cursor from the first point towards the last.
    const before = Number(await page.locator('[data-cursor-time]').getAttribute('data-cursor-time'));
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForFunction(
      `Number(document.querySelector('[data-cursor-time]')?.getAttribute('data-cursor-time')) > ${before}`,
      undefined,
      { timeout: 5000 },
    );
    await screenshot(page, 'dashboard-3-session');
    await expectAccessible(page, 'session page');

    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(csvDownload.suggestedFilename()).toBe(`${sessionId}.csv`);
    const csv = readFileSync((await csvDownload.path()) as string, 'utf8')
      .trim()
      .split('\n');
    expect(csv[0]).toBe('time,timestamp,source_id,metric,value,tags,session_id');
    expect(csv.length - 1).toBe(pointCount);
    expect(csv[1]).toContain(sessionId);

    const [ndjsonDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export NDJSON' }).click(),
    ]);
    const lines = readFileSync((await ndjsonDownload.path()) as string, 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(pointCount);
    expect(JSON.parse(lines[0])).toMatchObject({ source_id: sourceId, session_id: sessionId });

    await page.getByRole('link', { name: 'Sessions', exact: true }).first().click();
    await page.locator(`tr[data-session="${sessionId}"]`).waitFor();
    await expectAccessible(page, 'sessions list');
    expectNoProblems();
  }, 60_000);

  it('runs echo hello in the terminal and shows its output', async () => {
    await page.goto(`${platform.gateway}/devices/${encodeURIComponent(sourceId)}`);
    await page.getByRole('heading', { name: 'Terminal' }).waitFor();
    await page.locator('[data-connection="live"]').waitFor();
    await page.getByLabel('Command', { exact: true }).fill('echo hello');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('.term-out', { hasText: /^hello$/ }).waitFor();
    await page.locator('.term-status', { hasText: 'exited with code 0' }).waitFor();
    await page.locator('[data-terminal-output]').scrollIntoViewIfNeeded();
    await screenshot(page, 'dashboard-4-terminal');
    expectNoProblems();
  }, 30_000);

  it('creates a key shown once, and revoking it signs its browser out with a reason', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'New key' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('viewer');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.locator('[data-created-key]').getAttribute('data-created-key')) as string;
    expect(key).toMatch(/^plx_[A-Za-z0-9]{40}$/);
    await page.locator('tr[data-key-name="viewer"]').waitFor();
    await screenshot(page, 'dashboard-5-key-created');
    await expectAccessible(page, 'keys page');

    // Someone signs in with the new read-only key: the terminal and stream controls say why they are off.
    const viewerContext = await browser.newContext({ viewport: { width: 390, height: 844 } });
    others.push(viewerContext);
    const viewer = await viewerContext.newPage();
    viewer.setDefaultTimeout(15_000);
    const viewerProblems = new PageProblems(viewer, 'viewer page');
    await viewer.goto(`${platform.gateway}/devices/${encodeURIComponent(sourceId)}`);
    await viewer.getByLabel('API key').fill(key);
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.getByRole('heading', { name: 'Terminal' }).waitFor();
    await viewer.getByText('it needs an API key with the admin scope').first().waitFor();
    expect(await viewer.getByLabel('Command', { exact: true }).isDisabled()).toBe(true);
    expect(await viewer.getByRole('button', { name: 'Start stream' }).isDisabled()).toBe(true);
    await viewer.getByText('Streaming needs an API key with the control scope.').waitFor();
    await screenshot(viewer, 'dashboard-6-phone-read-only');
    await expectAccessible(viewer, 'device page, read-only key, phone-sized');

    // Revoked from the admin's browser, the viewer's dashboard goes back to sign-in and says why.
    viewerProblems.expect(UNAUTHORIZED_LOG);
    await page.getByRole('button', { name: 'Revoke key viewer' }).click();
    await page.getByRole('button', { name: 'Confirm revoke' }).click();
    await page.locator('tr[data-key-name="viewer"]').waitFor({ state: 'detached' });
    expect((await platform.api('/api/auth/verify-key', { key })).status).toBe(401);
    await viewer.getByRole('heading', { name: 'Sign in to Plexus' }).waitFor({ timeout: 10_000 });
    await viewer.getByText('no longer accepted').waitFor();
    await screenshot(viewer, 'dashboard-7-revoked');
    await screenshot(page, 'dashboard-8-key-revoked');
    expectNoProblems(viewerProblems);
    expectNoProblems();
  }, 60_000);
});
