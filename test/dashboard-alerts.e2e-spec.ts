import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Locator, Page, Request } from 'playwright-core';
import { AgentProcess } from './support/agent-process.js';
import { accessibilityViolations, launchChromium, PageProblems, screenshot } from './support/browser.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait-for.js';

// The Alerts page in Debian's Chromium against the whole platform: rules (listed as text, the
// editor's checks, created with the webhook secret shown once), the dry run over a recorded
// session, firing alerts and the history (rows seeded by SQL), acknowledging and silencing, the
// firing count in the top bar following alerts live, and a rule's threshold on the charts of its
// metric. Each step leaves a screenshot in test-output/. Run `npm run build` first (npm test does).

const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

let platform: Platform;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: PageProblems;
let orgId: string;
/** Every request the page made to /api/rules or /api/alerts, with its body. */
const calls: Array<{ method: string; path: string; body: unknown }> = [];
const dialogs: string[] = [];
const agent = new AgentProcess();

beforeAll(async () => {
  [platform, browser] = await Promise.all([Platform.start(), launchChromium()]);
  // UTC, so the datetime-local fields read the same as the ISO times sent.
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  problems = new PageProblems(page, 'alerts page');
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  // The API answers hostile or wrong input with a 4xx; a 5xx is always a fault.
  page.on('response', (response) => {
    if (response.status() >= 500) problems.problems.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (!/^\/api\/(rules|alerts)/.test(url.pathname)) return;
    const text = request.postData();
    calls.push({ method: request.method(), path: url.pathname + url.search, body: text ? (JSON.parse(text) as unknown) : undefined });
  });
  const verified = (await (await platform.api('/api/auth/verify-key')).json()) as { org_id: string };
  orgId = verified.org_id;
}, 120_000);

// Each test answers for the console errors of its own steps.
beforeEach(() => {
  problems.problems.length = 0;
  dialogs.length = 0;
});

afterAll(async () => {
  await agent.stop();
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await platform?.stop();
});

async function expectAccessible(where: string): Promise<void> {
  const violations = await accessibilityViolations(page);
  expect({ where, violations }).toEqual({ where, violations: [] });
}

function expectNoProblems(): void {
  expect(problems.problems).toEqual([]);
  expect(dialogs).toEqual([]);
}

async function expectOk(response: Response | Promise<Response>): Promise<unknown> {
  const answer = await response;
  const body = await answer.text();
  expect([200, 201].includes(answer.status) ? 'ok' : `${answer.status} ${body}`).toBe('ok');
  return body ? (JSON.parse(body) as unknown) : undefined;
}

async function createRule(rule: Record<string, unknown>): Promise<{ id: string; name: string }> {
  return (await expectOk(platform.api('/api/rules', { method: 'POST', body: JSON.stringify(rule) }))) as { id: string; name: string };
}

/** An alert row as the alerts app writes it. */
async function seedAlert(fields: {
  id: string;
  org?: string;
  ruleId: string;
  ruleName: string;
  state: 'firing' | 'resolved';
  firedAt: Date;
  sourceId?: string;
  value?: number;
}): Promise<void> {
  await platform.db.query(
    `INSERT INTO alerts (id, org_id, rule_id, rule_name, series_key, source_id, metric, tags, severity, state, value, fired_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'temperature', NULL, 'critical', $7, $8, $9, $10)`,
    [
      fields.id,
      fields.org ?? orgId,
      fields.ruleId,
      fields.ruleName,
      `${fields.sourceId ?? 'oven-1'}|temperature|{}`,
      fields.sourceId ?? 'oven-1',
      fields.state,
      fields.value ?? 250,
      fields.firedAt,
      fields.state === 'resolved' ? new Date(fields.firedAt.getTime() + 60_000) : null,
    ],
  );
}

async function firingCount(): Promise<number> {
  return Number(await page.locator('.topbar [data-firing]').getAttribute('data-firing'));
}

async function firingCountBecomes(count: number): Promise<void> {
  await page.locator(`.topbar [data-firing="${count}"]`).waitFor();
}

/** Pixels of the critical colour (#cf222e) on a chart's canvas: no series is drawn in it, only critical thresholds. */
function criticalPixels(canvas: Locator): Promise<number> {
  type Canvas = { width: number; height: number; getContext(kind: '2d'): { getImageData(...box: number[]): { data: Uint8ClampedArray } } };
  return canvas.evaluate((element) => {
    const drawn = element as unknown as Canvas;
    const { data } = drawn.getContext('2d').getImageData(0, 0, drawn.width, drawn.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4)
      if (Math.abs(data[i] - 0xcf) < 12 && Math.abs(data[i + 1] - 0x22) < 12 && Math.abs(data[i + 2] - 0x2e) < 12) n++;
    return n;
  });
}

async function signIn(): Promise<void> {
  await page.goto(`${platform.gateway}/`);
  await page.getByLabel('API key').fill(platform.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-connection="live"]').waitFor();
}

/** The rule editor's first problem, once it is the one expected, at the field expected. */
async function editorSays(field: string, problem: string): Promise<void> {
  await page.locator('#rule-problem', { hasText: problem }).waitFor();
  expect(await page.locator(`#${field}`).getAttribute('aria-invalid')).toBe('true');
}

describe('the dashboard Alerts page', () => {
  it('lists rules as text, checks the editor, and shows a new webhook secret once', async () => {
    const hostile = await createRule({ name: HOSTILE_NAME, metric: 'temperature', condition: { type: 'above', threshold: 100 } });
    await signIn();
    await firingCountBecomes(0);
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();

    // A name that is markup is shown as its characters, and nothing runs.
    const row = page.locator(`tr[data-rule-id="${hostile.id}"]`);
    expect(await row.locator('.rule-name').textContent()).toBe(HOSTILE_NAME);
    expect(await page.locator('main img').count()).toBe(0);
    await page.getByRole('heading', { name: 'Nothing is firing' }).waitFor();
    await page.getByRole('heading', { name: 'No alerts yet' }).waitFor();
    await screenshot(page, 'dashboard-alerts-1-rules');
    await expectAccessible('alerts page with one rule');

    // The editor names the first problem at its field, before anything is sent.
    await page.getByRole('button', { name: 'New rule' }).click();
    const posted = () => calls.filter((c) => c.method === 'POST' && c.path === '/api/rules').length;
    const before = posted();
    const create = page.getByRole('button', { name: 'Create rule' });
    await create.click();
    await editorSays('rule-name', 'Give the rule a name.');
    await page.getByLabel('Name').fill('Oven out of range');
    await create.click();
    await editorSays('rule-metric', 'Name the metric the rule watches.');
    await page.getByLabel('Metric').fill('temperature');
    await page.getByLabel('Condition').selectOption('outside');
    await page.getByLabel('Low').fill('180');
    await page.getByLabel('High').fill('120');
    await create.click();
    await editorSays('rule-high', 'The high end must not be below the low end.');
    await page.getByLabel('High').fill('220');
    await page.getByLabel('Tags to match').fill('line=2\nnot a tag');
    await create.click();
    await editorSays('rule-tags', '"not a tag" is not key=value.');
    await page.getByLabel('Tags to match').fill('line=2');
    await page.getByLabel('Webhook URLs').fill('ftp://example.com/hook');
    await create.click();
    await editorSays('rule-webhooks', '"ftp://example.com/hook" is not an http:// or https:// URL.');
    await page.getByLabel('Webhook URLs').fill('https://hooks.example.com/plexus');
    await page.getByLabel('For (seconds)').fill('1.5');
    await create.click();
    await editorSays('rule-for-seconds', 'The duration must be a whole number of seconds');
    await page.getByLabel('For (seconds)').fill('120');
    await page.getByLabel('Severity').selectOption('critical');
    expect(posted()).toBe(before);
    await expectAccessible('rule editor with a problem');

    // Sent as the API takes it; the secret of the new webhook is shown once.
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rules' && r.request().method() === 'POST');
    await create.click();
    expect((await answered).status()).toBe(201);
    expect(calls.filter((c) => c.method === 'POST' && c.path === '/api/rules').at(-1)?.body).toEqual({
      name: 'Oven out of range',
      enabled: true,
      source_id: null,
      tags: { line: '2' },
      metric: 'temperature',
      condition: { type: 'outside', low: 180, high: 220 },
      for_seconds: 120,
      severity: 'critical',
      webhooks: [{ url: 'https://hooks.example.com/plexus' }],
    });
    await page.getByRole('heading', { name: 'Webhook secrets for "Oven out of range"' }).waitFor();
    const secret = (await page.locator('[data-webhook-secret]').getAttribute('data-webhook-secret')) as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const created = page.locator('tr[data-rule-name="Oven out of range"]');
    await created.waitFor();
    expect(await created.locator('td').nth(1).textContent()).toBe('every source · temperature · line=2');
    expect(await created.locator('td').nth(2).textContent()).toBe('outside 180 … 220');
    await screenshot(page, 'dashboard-alerts-2-secret-shown-once');
    await expectAccessible('webhook secret shown');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.reload();
    await created.waitFor();
    expect(await page.getByText(secret).count()).toBe(0);

    // Editing keeps the webhook (by its URL, so its secret stays): no secret is shown again.
    await page.getByRole('button', { name: 'Edit Oven out of range' }).click();
    expect(await page.getByLabel('Webhook URLs').inputValue()).toBe('https://hooks.example.com/plexus');
    await page.getByLabel('Name').fill('Oven out of range!');
    const patched = page.waitForResponse((r) => r.request().method() === 'PATCH');
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect((await patched).status()).toBe(200);
    const patch = calls.filter((c) => c.method === 'PATCH').at(-1)?.body as { webhooks: Array<{ id?: string; url: string }> };
    expect(patch.webhooks).toEqual([{ id: expect.stringMatching(/^whk_/), url: 'https://hooks.example.com/plexus' }]);
    await page.locator('tr[data-rule-name="Oven out of range!"]').waitFor();
    expect(await page.getByRole('heading', { name: /Webhook secrets/ }).count()).toBe(0);

    // Deleting asks once more, then the rule is gone.
    await page.getByRole('button', { name: `Delete ${HOSTILE_NAME}` }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await platform.api(`/api/rules/${hostile.id}`)).status).toBe(404);
    expectNoProblems();
  }, 90_000);

  it('dry-runs the rule being edited over a recorded session and lists its transitions', async () => {
    // A session of an oven heating past 200 and cooling again.
    const start = Math.floor(Date.now() / 1000) - 600;
    const values = [150, 170, 190, 210, 230, 240, 210, 190, 170];
    await expectOk(
      platform.api('/api/sessions', {
        method: 'POST',
        body: JSON.stringify({ session_id: 'bake-1', name: 'Bake one', source_id: 'oven-1' }),
      }),
    );
    await expectOk(
      platform.ingest(
        values.map((value, i) => ({ metric: 'temperature', value, timestamp: start + i * 10, source_id: 'oven-1', session_id: 'bake-1' })),
      ),
    );
    await waitFor(
      'the session stored',
      async () => (await platform.count(`SELECT count(*) FROM telemetry WHERE session_id = 'bake-1'`)) === 9,
    );

    await page.reload();
    await page.getByRole('button', { name: 'New rule' }).click();
    await page.getByLabel('Name').fill('Oven above 200');
    await page.getByLabel('Metric').fill('temperature');
    await page.getByLabel('Threshold').fill('200');
    await page.getByLabel('For (seconds)').fill('15');
    await page.locator('#dry-run-over option[value="bake-1"]').waitFor({ state: 'attached' });
    await page.getByLabel('Over').selectOption('bake-1');
    const tested = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rules/test');
    await page.getByRole('button', { name: 'Dry run' }).click();
    expect((await tested).status()).toBe(200);
    expect(calls.filter((c) => c.path === '/api/rules/test').at(-1)?.body).toEqual({
      rule: expect.objectContaining({
        name: 'Oven above 200',
        metric: 'temperature',
        condition: { type: 'above', threshold: 200 },
        for_seconds: 15,
      }),
      session_id: 'bake-1',
    });
    // 210 at +30 s: pending; 230 at +40 s: still 10 s short; 240 at +50 s: firing; 190 at +70 s: ok.
    const result = page.locator('.dry-run-result');
    await result.waitFor();
    expect(await result.getAttribute('data-transitions')).toBe('3');
    expect(await result.locator('tr[data-transition]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-transition')))).toEqual([
      'ok-pending',
      'pending-firing',
      'firing-ok',
    ]);
    await result.getByText('9 points in 1 series over session "Bake one": 3 transitions.').waitFor();
    await screenshot(page, 'dashboard-alerts-3-dry-run');
    await expectAccessible('dry run result');

    // A dry run saves nothing.
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('tr[data-rule-name="Oven above 200"]').count()).toBe(0);
    expect(await platform.count(`SELECT count(*) FROM alert_rules WHERE name = 'Oven above 200'`)).toBe(0);
    expectNoProblems();
  }, 60_000);

  it('lists firing alerts and the history a page at a time, acknowledges one and silences its rule', async () => {
    const rule = await createRule({
      name: 'Seeded oven rule',
      metric: 'temperature',
      condition: { type: 'above', threshold: 200 },
      severity: 'critical',
    });
    const now = Date.now();
    for (let i = 0; i < 3; i++)
      await seedAlert({
        id: `alr_firing${i}`,
        ruleId: rule.id,
        ruleName: rule.name,
        state: 'firing',
        firedAt: new Date(now - i * 60_000),
        sourceId: `oven-${i}`,
      });
    for (let i = 0; i < 57; i++)
      await seedAlert({
        id: `alr_old${String(i).padStart(3, '0')}`,
        ruleId: rule.id,
        ruleName: rule.name,
        state: 'resolved',
        firedAt: new Date(now - 3_600_000 - i * 60_000),
      });
    // Another org's alert is never shown.
    await platform.db.query(`INSERT INTO orgs (id, name) VALUES ('other-org', 'Other') ON CONFLICT DO NOTHING`);
    await seedAlert({
      id: 'alr_otherorg',
      org: 'other-org',
      ruleId: 'rule_other',
      ruleName: 'Not yours',
      state: 'firing',
      firedAt: new Date(now),
    });

    await page.reload();
    await firingCountBecomes(3);
    const firing = page.locator('[data-firing-list="3"]');
    await firing.waitFor();
    expect(await firing.locator('tr[data-alert]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-alert')))).toEqual([
      'alr_firing0',
      'alr_firing1',
      'alr_firing2',
    ]);

    // History: 50, then the rest with Load more; the other org's alert in neither.
    await page.locator('tr[data-history]').nth(49).waitFor();
    expect(await page.locator('tr[data-history]').count()).toBe(50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.locator('tr[data-history]').nth(59).waitFor();
    expect(await page.locator('tr[data-history]').count()).toBe(60);
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
    expect(await page.locator('[data-history="alr_otherorg"], [data-alert="alr_otherorg"]').count()).toBe(0);
    expect(await page.getByText('Not yours').count()).toBe(0);
    expect(await page.locator('tr[data-history][data-state="resolved"]').count()).toBe(57);
    await screenshot(page, 'dashboard-alerts-4-firing-and-history');
    await expectAccessible('firing alerts and history');

    // Acknowledge: the row says so, the alert stays firing.
    const acked = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/alerts/alr_firing1/ack');
    await page.getByRole('button', { name: 'Acknowledge Seeded oven rule on oven-1' }).click();
    expect((await acked).status()).toBe(200);
    await firing.locator('tr[data-alert="alr_firing1"] button', { hasText: 'Acknowledge' }).waitFor({ state: 'detached' });
    expect(await platform.count(`SELECT count(*) FROM alerts WHERE id = 'alr_firing1' AND acknowledged_at IS NOT NULL`)).toBe(1);
    expect(await firingCount()).toBe(3);

    // Silence the rule until a time; the rules table and the firing rows show it, and it can be lifted.
    const until = new Date(Math.ceil((now + 2 * 3_600_000) / 60_000) * 60_000);
    await firing.locator('tr[data-alert="alr_firing0"]').getByRole('button', { name: 'Silence Seeded oven rule' }).click();
    await firing.getByLabel('Silence until').fill(until.toISOString().slice(0, 16));
    const silenced = page.waitForResponse((r) => r.request().method() === 'PATCH');
    await firing.getByRole('button', { name: 'Silence', exact: true }).click();
    expect((await silenced).status()).toBe(200);
    expect(calls.filter((c) => c.method === 'PATCH').at(-1)).toEqual({
      method: 'PATCH',
      path: `/api/rules/${rule.id}`,
      body: { silenced_until: until.toISOString() },
    });
    await page.locator(`tr[data-rule-id="${rule.id}"] [data-silenced="${rule.id}"]`).waitFor();
    const stored = (await (await platform.api(`/api/rules/${rule.id}`)).json()) as { silenced_until: string };
    expect(Date.parse(stored.silenced_until)).toBe(until.getTime());
    await screenshot(page, 'dashboard-alerts-5-silenced');
    await expectAccessible('rule silenced');
    await page.locator(`tr[data-rule-id="${rule.id}"]`).getByRole('button', { name: 'Unsilence Seeded oven rule' }).click();
    await page.locator(`tr[data-rule-id="${rule.id}"] [data-silenced]`).waitFor({ state: 'detached' });
    expect(((await (await platform.api(`/api/rules/${rule.id}`)).json()) as { silenced_until: string | null }).silenced_until).toBeNull();
    expectNoProblems();
  }, 60_000);

  it('follows an alert firing and resolving live, in the list and the top-bar count', async () => {
    await createRule({
      name: 'Kiln too hot',
      source_id: 'kiln-1',
      metric: 'heat',
      condition: { type: 'above', threshold: 900 },
      severity: 'critical',
    });
    await page.reload();
    await page.locator('[data-connection="live"]').waitFor();
    const count = await firingCount();

    // The alerts app fires on a point above the threshold; the page hears it with no reload.
    await expectOk(platform.ingest([{ metric: 'heat', value: 950, source_id: 'kiln-1' }]));
    const row = page.locator('tr[data-alert]', { hasText: 'Kiln too hot' });
    await row.waitFor({ timeout: 20_000 });
    await firingCountBecomes(count + 1);
    expect(await page.locator('tr[data-history]', { hasText: 'Kiln too hot' }).getAttribute('data-state')).toBe('firing');
    await screenshot(page, 'dashboard-alerts-6-fired-live');

    await expectOk(platform.ingest([{ metric: 'heat', value: 700, source_id: 'kiln-1' }]));
    await row.waitFor({ state: 'detached', timeout: 20_000 });
    await firingCountBecomes(count);
    await page.locator('tr[data-history][data-state="resolved"]', { hasText: 'Kiln too hot' }).waitFor();
    expectNoProblems();
  }, 60_000);

  it("draws a rule's threshold on the charts of the metric it watches", async () => {
    // Oven-1's temperature: the session above, charted on its page and in the explorer.
    await createRule({
      name: 'Oven 1 hot',
      source_id: 'oven-1',
      metric: 'temperature',
      condition: { type: 'above', threshold: 260 },
      severity: 'critical',
    });
    await createRule({ name: 'Other oven', source_id: 'oven-2', metric: 'temperature', condition: { type: 'above', threshold: 300 } });
    await createRule({ name: 'Other metric', metric: 'humidity', condition: { type: 'below', threshold: 5 } });

    await page.goto(`${platform.gateway}/sessions/bake-1`);
    const chart = page.locator('.chart[data-metric="temperature"]');
    await chart.locator('[data-threshold]').first().waitFor();
    // The every-source rules on temperature, oven-1's own, not oven-2's nor humidity's.
    const lines = async () =>
      ((await chart.getAttribute('data-thresholds')) as string)
        .split(',')
        .map(Number)
        .sort((a, b) => a - b);
    const legend = async () =>
      chart.locator('[data-threshold]').evaluateAll((items) => items.map((i) => i.getAttribute('data-threshold')).sort());
    await waitFor('the session chart to draw every rule on temperature', async () => (await lines()).includes(260));
    expect(await lines()).toEqual([180, 200, 220, 260]);
    expect(await legend()).toEqual(['Oven 1 hot: above 260', 'Oven out of range!: outside 180 … 220', 'Seeded oven rule: above 200']);
    // The line is on the canvas: pixels of the critical colour (#cf222e) where no series is drawn in it.
    expect(await criticalPixels(chart.locator('canvas'))).toBeGreaterThan(50);
    await screenshot(page, 'dashboard-alerts-7-threshold-on-session-chart');
    await expectAccessible('session chart with thresholds');

    await page.goto(
      `${platform.gateway}/explorer?source=oven-2&metrics=temperature&from=${Math.floor(Date.now() / 1000) - 3600}&to=${Math.floor(Date.now() / 1000)}&agg=avg`,
    );
    const explored = page.locator('.chart[data-metric="temperature"]');
    await explored.locator('[data-threshold="Other oven: above 300"]').waitFor();
    expect(await explored.locator('[data-threshold="Oven 1 hot: above 260"]').count()).toBe(0);
    expectNoProblems();
  }, 60_000);

  it("draws a rule's threshold on a live chart of a streaming device", async () => {
    const made = await platform.api('/api/sources/pair', { method: 'POST', body: JSON.stringify({ name: 'Press Pi' }) });
    const { code } = (await made.json()) as { code: string };
    await agent.pair(code, platform.gateway);
    const { sources } = (await (await platform.api('/api/sources')).json()) as { sources: Array<{ source_id: string; name: string }> };
    const sourceId = sources.find((s) => s.name === 'Press Pi')!.source_id;
    await createRule({
      name: 'Press shaking',
      source_id: sourceId,
      metric: 'accel_x',
      condition: { type: 'inside', low: -0.25, high: 0.25 },
      severity: 'critical',
    });
    agent.start();
    // Opened once the device has described its sensors, so the page offers their metrics to stream.
    await waitFor(
      'the agent online with its sensors',
      async () => {
        const listed = (await (await platform.api('/api/sources')).json()) as {
          sources: Array<{ source_id: string; online: boolean; sensors: unknown[] }>;
        };
        const source = listed.sources.find((s) => s.source_id === sourceId);
        return Boolean(source?.online && source.sensors.length);
      },
      20_000,
      () => agent.output.join(''),
    );

    await page.goto(`${platform.gateway}/devices/${encodeURIComponent(sourceId)}`);
    await page.getByRole('heading', { name: 'Live view' }).waitFor();
    await page.locator('h1 .pill-online').waitFor();
    await page.getByRole('button', { name: 'Start stream' }).click();
    const chart = page.locator('.live-chart[data-metric="accel_x"]');
    await page.waitForFunction(`Number(document.querySelector('.live-chart[data-metric="accel_x"]')?.getAttribute('data-points')) > 20`);
    expect(await chart.getAttribute('data-thresholds')).toBe('-0.25,0.25');
    expect(await chart.locator('[data-threshold]').textContent()).toBe('Press shaking: inside -0.25 … 0.25');
    expect(await page.locator('.live-chart[data-metric="accel_y"] [data-threshold]').count()).toBe(0);
    expect(await criticalPixels(chart.locator('canvas'))).toBeGreaterThan(50);
    await screenshot(page, 'dashboard-alerts-8-threshold-on-live-chart');
    await expectAccessible('live chart with thresholds');
    await page.getByRole('button', { name: 'Stop stream' }).click();
    expectNoProblems();
  }, 60_000);

  it('shows a read-only key the rules and alerts, with the controls it may not use disabled and why', async () => {
    const readKey = await platform.createKey(['read'], orgId);
    const reader = await browser.newContext({ viewport: { width: 390, height: 844 }, timezoneId: 'UTC' });
    try {
      const phone = await reader.newPage();
      phone.setDefaultTimeout(15_000);
      const phoneProblems = new PageProblems(phone, 'read-only alerts page');
      await phone.goto(`${platform.gateway}/alerts`);
      await phone.getByLabel('API key').fill(readKey);
      await phone.getByRole('button', { name: 'Sign in' }).click();
      await phone.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
      await phone.locator('tr[data-rule-name="Seeded oven rule"]').waitFor();
      expect(await phone.getByRole('button', { name: 'New rule' }).isDisabled()).toBe(true);
      expect(await phone.locator('#new-rule-why').textContent()).toBe('Creating and changing rules needs an API key with the admin scope.');
      expect(await phone.getByRole('button', { name: 'Delete Seeded oven rule' }).isDisabled()).toBe(true);
      expect(
        await phone.locator('tr[data-rule-name="Seeded oven rule"]').getByRole('button', { name: 'Silence Seeded oven rule' }).isDisabled(),
      ).toBe(true);
      await phone.getByText('Acknowledging alerts and silencing rules needs an API key with the admin scope.').waitFor();
      expect(
        await phone
          .locator('tr[data-alert="alr_firing0"]')
          .getByRole('button', { name: /Acknowledge/ })
          .isDisabled(),
      ).toBe(true);

      // The editor opens to read a rule and dry-run it; saving says which scope it needs.
      await phone.getByRole('button', { name: 'Open Seeded oven rule' }).click();
      expect(await phone.getByLabel('Threshold').inputValue()).toBe('200');
      expect(await phone.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
      expect(await phone.locator('#rule-save-why').textContent()).toBe(
        'Saving rules needs an API key with the admin scope; the dry run needs read.',
      );
      await phone.getByRole('button', { name: 'Dry run' }).click();
      await phone.locator('.dry-run-result').waitFor();
      await screenshot(phone, 'dashboard-alerts-9-read-only-phone');
      const violations = await accessibilityViolations(phone);
      expect({ where: 'read-only alerts page', violations }).toEqual({ where: 'read-only alerts page', violations: [] });
      expect(phoneProblems.problems).toEqual([]);
    } finally {
      await reader.close();
    }
  }, 60_000);
});
