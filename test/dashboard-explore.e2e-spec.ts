import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { accessibilityViolations, launchChromium, PageProblems, screenshot } from './support/browser.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// The explorer (zooming refines the resolution), the sessions list's filters, and the pages'
// empty and error states, in Debian's Chromium against the whole platform. Data is seeded over
// HTTP (POST /api/ingest, POST/PATCH /api/sessions); no device connects, so every source is offline.
// Each test leaves a screenshot in test-output/. Run `npm run build` first (npm test does).

/** Chromium logs every 404 it is answered; where a missing thing is the point of the step it is expected. */
const NOT_FOUND_LOG = /status of 404/;

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;
/** Every /api/query the page asked, in order. */
const queries: URL[] = [];

beforeAll(async () => {
  [platform, browser] = await Promise.all([Platform.start(), launchChromium()]);
  // UTC, so the explorer's datetime-local fields read the same as the seeded times.
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  problems = new PageProblems(page, 'explore page');
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/query') queries.push(url);
  });
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await platform?.stop();
});

async function expectAccessible(target: Page, where: string): Promise<void> {
  const violations = await accessibilityViolations(target);
  expect({ where, violations }).toEqual({ where, violations: [] });
}

function expectNoProblems(): void {
  expect(problems.problems).toEqual([]);
}

async function expectOk(response: Response | Promise<Response>, status = [200, 201]): Promise<void> {
  const answer = await response;
  const body = await answer.text();
  expect(status.includes(answer.status) ? 'ok' : `${answer.status} ${body}`).toBe('ok');
}

/** A bucket as the dashboard writes it (`740ms`, `3s`, `5m`, `1h`), in milliseconds. */
function bucketMs(bucket: string | null): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(bucket ?? '');
  if (!match) throw new Error(`not a bucket: ${bucket}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

/** The sessions listed, once they are exactly `expected` (the list reloads after each filter change). */
async function rowsBecome(expected: string[]): Promise<void> {
  const want = [...expected].sort().join(',');
  const shown = `[...document.querySelectorAll('tr[data-session]')].map((row) => row.getAttribute('data-session')).sort().join(',')`;
  await page.waitForFunction(`${shown} === ${JSON.stringify(want)}`).catch(async (error: Error) => {
    throw new Error(`expected the sessions ${want}, the page lists ${String(await page.evaluate(shown))} (${error.message})`);
  });
}

/** The address's query once the page has written its filters into it. */
async function addressBecomes(search: string): Promise<void> {
  await page.waitForFunction(`location.search === ${JSON.stringify(search)}`).catch(async (error: Error) => {
    throw new Error(
      `expected the address's query ${JSON.stringify(search)}, it is ${JSON.stringify(new URL(page.url()).search)} (${error.message})`,
    );
  });
}

async function signIn(): Promise<void> {
  await page.goto(`${platform.gateway}/`);
  await page.getByLabel('API key').fill(platform.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-connection="live"]').waitFor();
}

describe('the dashboard explorer, session filters and empty states', () => {
  it('says what to do next when there is nothing to explore and no sessions', async () => {
    await signIn();
    await page.getByRole('heading', { name: 'No devices yet' }).waitFor();

    await page.getByRole('link', { name: 'Explorer', exact: true }).click();
    await page.getByRole('heading', { name: 'Nothing to explore yet' }).waitFor();
    const explorerHelp = page.locator('.empty', { hasText: 'Pair a device from the fleet or send points over HTTP' });
    await explorerHelp.waitFor();
    expect(await explorerHelp.getByRole('link', { name: 'fleet' }).getAttribute('href')).toBe('/fleet');
    await screenshot(page, 'dashboard-explore-1-empty-explorer');
    await expectAccessible(page, 'empty explorer');

    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.getByRole('heading', { name: 'No sessions yet' }).waitFor();
    await page.locator('.empty', { hasText: 'and choose Start recording, or send points with a session_id over HTTP' }).waitFor();
    expect(await page.locator('tr[data-session]').count()).toBe(0);
    await screenshot(page, 'dashboard-explore-2-no-sessions');
    await expectAccessible(page, 'empty sessions list');
    expectNoProblems();
  }, 60_000);

  it('charts a chosen source, metrics and range, and zooming asks again with finer buckets', async () => {
    // An hour of two metrics at 1 Hz, two hours ago; another source to choose it from.
    const from = Math.floor(Date.now() / 60_000) * 60 - 2 * 3600;
    const to = from + 3600;
    const points = [];
    for (let i = 0; i < 3600; i++) {
      points.push({ metric: 'temperature', value: 20 + i / 360, timestamp: from + i, source_id: 'bench-rig' });
      points.push({ metric: 'pressure', value: 1000 + 5 * Math.sin(i / 60), timestamp: from + i, source_id: 'bench-rig' });
    }
    points.push({ metric: 'voltage', value: 5, timestamp: from, source_id: 'aa-spare-rig' });
    await expectOk(platform.ingest(points));
    await waitFor(
      'the seeded points stored',
      async () => (await platform.count(`SELECT count(*) FROM telemetry WHERE source_id = 'bench-rig'`)) === 7200,
    );

    await page.getByRole('link', { name: 'Explorer', exact: true }).click();
    await page.getByRole('heading', { name: 'Explorer' }).waitFor();
    await page.getByLabel('Device').selectOption('bench-rig');
    // Sources that only send over HTTP describe no sensors: their metrics are added by name.
    await page.getByText('This device lists no metrics; add one by name.').waitFor();
    await page.getByText('Choose a device and metrics, then Show.').waitFor();
    expect(await page.getByRole('button', { name: 'Show' }).isDisabled()).toBe(true);
    await page.getByLabel('Other metric').fill('temperature');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByLabel('Other metric').fill('pressure');
    await page.getByLabel('Other metric').press('Enter');
    expect(await page.getByRole('checkbox', { name: 'temperature' }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'pressure' }).isChecked()).toBe(true);
    const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 19);
    await page.getByLabel('From').fill(iso(from));
    await page.getByLabel('To').fill(iso(to));

    // The device chosen stands: the page's own pick of a first device (once the list arrives) came
    // after the choice now and then and replaced it, and the charts said "no points in this range".
    expect(await page.getByLabel('Device').inputValue()).toBe('bench-rig');

    const shown = queries.length;
    await page.getByRole('button', { name: 'Show' }).click();
    const temperature = page.locator('.chart[data-metric="temperature"]');
    const pressure = page.locator('.chart[data-metric="pressure"]');
    await temperature.locator('.chart-readout', { hasText: /^\d+ buckets of \d+(ms|s|m|h)$/ }).waitFor();
    await pressure.locator('.chart-readout', { hasText: /^\d+ buckets of \d+(ms|s|m|h)$/ }).waitFor();

    // One query per metric, for the chosen source and range, in buckets of about one pixel.
    const first = queries.slice(shown);
    expect(first.map((q) => q.searchParams.get('metric')).sort()).toEqual(['pressure', 'temperature']);
    for (const q of first) {
      expect(q.searchParams.get('source_id')).toBe('bench-rig');
      expect(Number(q.searchParams.get('from'))).toBeCloseTo(from, 3);
      expect(Number(q.searchParams.get('to'))).toBeCloseTo(to, 3);
      expect(q.searchParams.get('agg')).toBe('avg');
    }
    const wide = bucketMs(first[0].searchParams.get('bucket'));
    expect(wide).toBeGreaterThanOrEqual(1000); // an hour over ~1100 px: seconds per bucket
    const wideBuckets = Number(await temperature.getAttribute('data-points'));
    expect(wideBuckets).toBeGreaterThan(100);
    expect(await temperature.locator('.chart-readout').first().textContent()).toBe(
      `${wideBuckets} buckets of ${first[0].searchParams.get('bucket')}`,
    );
    await page.getByText(`avg per ${first[0].searchParams.get('bucket')}`).waitFor();
    expect(new URL(page.url()).searchParams.get('source')).toBe('bench-rig');
    await screenshot(page, 'dashboard-explore-3-explorer-hour');
    await expectAccessible(page, 'explorer showing an hour');

    // Drag across a tenth of the temperature chart: the page asks again, narrower and finer.
    const zoomedTemperature = page.waitForResponse((response) => {
      const url = new URL(response.url());
      return (
        url.pathname === '/api/query' && url.searchParams.get('metric') === 'temperature' && Number(url.searchParams.get('from')) > from + 1
      );
    });
    const plot = (await temperature.locator('.u-over').boundingBox())!;
    const y = plot.y + plot.height / 2;
    await page.mouse.move(plot.x + plot.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.45, y, { steps: 5 });
    await page.mouse.move(plot.x + plot.width * 0.5, y, { steps: 5 });
    await page.mouse.up();
    const zoomedResponse = await zoomedTemperature;
    const zoomed = new URL(zoomedResponse.url());
    const zoomFrom = Number(zoomed.searchParams.get('from'));
    const zoomTo = Number(zoomed.searchParams.get('to'));
    expect(zoomFrom).toBeGreaterThan(from + 0.3 * 3600);
    expect(zoomTo).toBeLessThan(from + 0.6 * 3600);
    expect(zoomTo - zoomFrom).toBeLessThan(0.2 * 3600);
    const fine = bucketMs(zoomed.searchParams.get('bucket'));
    expect(fine).toBeLessThan(wide);
    expect(fine).toBeLessThanOrEqual(((zoomTo - zoomFrom) * 1000) / 100);
    // The answer holds the temperatures of that stretch (20 °C rising 1 °C every 6 minutes).
    const answer = (await zoomedResponse.json()) as { bucket: string; points: Array<{ timestamp: number; value: number }> };
    expect(answer.points.length).toBeGreaterThan(50);
    for (const point of answer.points) {
      expect(point.timestamp).toBeGreaterThanOrEqual(zoomFrom - fine / 1000);
      expect(point.timestamp).toBeLessThan(zoomTo);
      expect(point.value).toBeGreaterThanOrEqual(20 + (zoomFrom - from) / 360 - 0.5);
      expect(point.value).toBeLessThanOrEqual(20 + (zoomTo - from) / 360 + 0.5);
    }
    // Both charts follow the zoom, and show data at the finer resolution.
    const fineBucket = zoomed.searchParams.get('bucket') as string;
    await temperature.locator('.chart-readout', { hasText: `${answer.points.length} buckets of ${fineBucket}` }).waitFor();
    await pressure.locator('.chart-readout', { hasText: new RegExp(`^\\d+ buckets of ${fineBucket}$`) }).waitFor();
    expect(Number(await pressure.getAttribute('data-points'))).toBeGreaterThan(50);
    const zoomedPressure = queries.filter(
      (q) => q.searchParams.get('metric') === 'pressure' && q.searchParams.get('from') === zoomed.searchParams.get('from'),
    );
    expect(zoomedPressure.map((q) => q.searchParams.get('bucket'))).toEqual([fineBucket]);
    expect(Number(new URL(page.url()).searchParams.get('from'))).toBeCloseTo(zoomFrom, 2);
    await page.getByText(`avg per ${fineBucket}`).waitFor();
    await screenshot(page, 'dashboard-explore-4-explorer-zoomed');
    await expectAccessible(page, 'explorer zoomed in');

    // Zoom out goes back to the hour, at the hour's resolution, in one step.
    const zoomedOut = page.waitForRequest((request) => {
      const url = new URL(request.url());
      return (
        url.pathname === '/api/query' &&
        url.searchParams.get('metric') === 'temperature' &&
        Math.abs(Number(url.searchParams.get('from')) - from) < 0.01
      );
    });
    await page.getByRole('button', { name: 'Zoom out' }).click();
    expect(bucketMs(new URL((await zoomedOut).url()).searchParams.get('bucket'))).toBe(wide);
    await temperature.locator('.chart-readout', { hasText: `${wideBuckets} buckets of ${first[0].searchParams.get('bucket')}` }).waitFor();
    await page.getByRole('button', { name: 'Zoom out' }).waitFor({ state: 'detached' });
    expectNoProblems();
  }, 60_000);

  it('filters sessions by device and status, with the filters in the address', async () => {
    // Two devices known from their telemetry, five sessions between them.
    await expectOk(
      platform.ingest([
        { metric: 'rpm', value: 1, source_id: 'rig-a' },
        { metric: 'rpm', value: 2, source_id: 'rig-b' },
      ]),
    );
    const sessions: Array<[id: string, source: string, status: string]> = [
      ['a-done', 'rig-a', 'completed'],
      ['a-failed', 'rig-a', 'failed'],
      ['a-live', 'rig-a', 'active'],
      ['b-done', 'rig-b', 'completed'],
      ['b-live', 'rig-b', 'active'],
    ];
    for (const [id, source, status] of sessions) {
      await expectOk(
        platform.api('/api/sessions', { method: 'POST', body: JSON.stringify({ session_id: id, name: `Run ${id}`, source_id: source }) }),
      );
      if (status !== 'active') await expectOk(platform.api(`/api/sessions/${id}`, { method: 'PATCH', body: JSON.stringify({ status }) }));
    }
    await waitFor('the sources listed', async () => {
      const { sources } = (await (await platform.api('/api/sources')).json()) as { sources: Array<{ source_id: string }> };
      return ['rig-a', 'rig-b'].every((id) => sources.some((s) => s.source_id === id));
    });

    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await rowsBecome(['a-done', 'a-failed', 'a-live', 'b-done', 'b-live']);
    await page.locator('#filter-source option[value="rig-b"]').waitFor({ state: 'attached' });

    await page.getByLabel('Device').selectOption('rig-a');
    await rowsBecome(['a-done', 'a-failed', 'a-live']);
    await addressBecomes('?source=rig-a');
    expect(await page.locator('tr[data-session="a-failed"] .pill').textContent()).toBe('Failed');

    await page.getByLabel('Status').selectOption('completed');
    await rowsBecome(['a-done']);
    await addressBecomes('?source=rig-a&status=completed');
    expect(await page.locator('tr[data-session="a-done"] td').nth(1).textContent()).toBe('rig-a');
    await screenshot(page, 'dashboard-explore-5-sessions-filtered');
    await expectAccessible(page, 'sessions filtered by device and status');

    // The address alone brings the same list back.
    await page.reload();
    await rowsBecome(['a-done']);
    expect(await page.getByLabel('Device').inputValue()).toBe('rig-a');
    expect(await page.getByLabel('Status').inputValue()).toBe('completed');

    await page.getByLabel('Device').selectOption('rig-b');
    await rowsBecome(['b-done']);
    await page.getByLabel('Status').selectOption({ label: 'recording' });
    await rowsBecome(['b-live']);
    await addressBecomes('?source=rig-b&status=active');
    expect(await page.locator('tr[data-session="b-live"] .pill').textContent()).toBe('Recording');

    await page.getByLabel('Device').selectOption('');
    await rowsBecome(['a-live', 'b-live']);
    await addressBecomes('?status=active');

    // No match: the page says so and how to get the list back.
    await page.getByLabel('Status').selectOption('aborted');
    await page.getByRole('heading', { name: 'No sessions match these filters' }).waitFor();
    await page.getByText('Clear the filters to see every session.').waitFor();
    expect(await page.locator('tr[data-session]').count()).toBe(0);
    await screenshot(page, 'dashboard-explore-6-sessions-no-match');
    await expectAccessible(page, 'sessions filtered to nothing');

    await page.getByLabel('Status').selectOption('');
    await rowsBecome(['a-done', 'a-failed', 'a-live', 'b-done', 'b-live']);
    await addressBecomes('');
    expectNoProblems();
  }, 60_000);

  it('explains a missing session, a missing device and an offline device in sentences', async () => {
    // A session id nobody created: a sentence and a way back, not a stack trace or raw JSON.
    await problems.expecting(NOT_FOUND_LOG, async () => {
      await page.goto(`${platform.gateway}/sessions/no-such-run`);
      await page.getByRole('heading', { name: 'Session', exact: true }).waitFor();
      await page.getByRole('alert').filter({ hasText: 'session "no-such-run" not found' }).waitFor();
    });
    const missing = (await page.locator('main').innerText()).trim();
    expect(missing).not.toMatch(/statusCode|SESSION_NOT_FOUND|\{"|\bat .+\.(js|ts):\d+/);
    expect(await page.getByRole('link', { name: 'all sessions' }).getAttribute('href')).toBe('/sessions');
    await screenshot(page, 'dashboard-explore-7-session-not-found');
    await expectAccessible(page, 'unknown session');

    await page.goto(`${platform.gateway}/devices/no-such-rig`);
    await page.getByRole('heading', { name: 'No such device' }).waitFor();
    await page.getByText('No device or source with this id belongs to your org.').waitFor();
    await expectAccessible(page, 'unknown device');

    // bench-rig only ever sent over HTTP: it is offline, and every live control says so.
    await page.goto(`${platform.gateway}/devices/bench-rig`);
    await page.locator('[data-connection="live"]').waitFor();
    await page.getByRole('heading', { name: 'bench-rig' }).locator('.pill-offline', { hasText: 'Offline' }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: 'This device is offline. Run plexus run on it to stream, record, configure sensors or run commands' })
      .waitFor();
    const startStream = page.getByRole('button', { name: 'Start stream' });
    expect(await startStream.isDisabled()).toBe(true);
    expect(await page.locator('#stream-why').textContent()).toBe('The device is offline.');
    expect(await page.getByRole('button', { name: 'Start recording' }).isDisabled()).toBe(true);
    expect(await page.locator('#record-why').textContent()).toBe('The device is offline.');
    expect(await page.getByLabel('Command', { exact: true }).isDisabled()).toBe(true);
    expect(await page.locator('#terminal-why').textContent()).toBe('The device is offline.');
    await page.locator('[data-terminal-output]', { hasText: 'The terminal is not available (see below).' }).waitFor();
    await screenshot(page, 'dashboard-explore-8-device-offline');
    await expectAccessible(page, 'offline device');

    // A recording left open by a device that went away: it cannot confirm a stop, so the page ends the session itself.
    await expectOk(platform.ingest([{ metric: 'rpm', value: 1, source_id: 'stale-rig' }]));
    await expectOk(
      platform.api('/api/sessions', {
        method: 'POST',
        body: JSON.stringify({ session_id: 'stale-run', name: 'Left open', source_id: 'stale-rig' }),
      }),
    );
    await waitFor('stale-rig listed', async () => {
      const { sources } = (await (await platform.api('/api/sources')).json()) as { sources: Array<{ source_id: string }> };
      return sources.some((s) => s.source_id === 'stale-rig');
    });
    await page.goto(`${platform.gateway}/devices/stale-rig`);
    await page.locator('[data-session-name]', { hasText: 'Left open' }).waitFor();
    expect(await page.getByRole('button', { name: 'Stop recording' }).count()).toBe(0);
    expect(await page.locator('#end-why').textContent()).toBe(
      'The device is offline: this marks the session completed with what it recorded so far.',
    );
    await expectAccessible(page, 'offline device with an open recording');
    await page.getByRole('button', { name: 'End session' }).click();
    await page.locator('[data-saved-session="stale-run"]').waitFor();
    expect(await page.locator('[data-recording]').getAttribute('data-recording')).toBe('idle');
    const ended = (await (await platform.api('/api/sessions/stale-run')).json()) as { status: string; ended_at: string | null };
    expect(ended).toMatchObject({ status: 'completed', ended_at: expect.any(String) });

    // The explorer over a range with nothing in it says so on each chart.
    await page.goto(`${platform.gateway}/explorer?source=rig-a&metrics=rpm&from=1000000000&to=1000003600&agg=avg`);
    await page.locator('.chart[data-metric="rpm"][data-points="0"] .chart-readout', { hasText: 'no points in this range' }).waitFor();
    await screenshot(page, 'dashboard-explore-9-explorer-empty-range');
    await expectAccessible(page, 'explorer, empty range');
    expectNoProblems();
  }, 60_000);
});
