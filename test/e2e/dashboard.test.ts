import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { randomBytes, randomUUID } from 'node:crypto';
import { createDocumentClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask } from '#lib/tasks/model';
import { eventually, stackEnv, testTimeoutMs, waitMs } from '../support/stack-env';
import { startCallbackReceiver } from '../../local/callback-receiver';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (nothing is
 * downloaded). Runs when Chromium is installed; `.ci/run` installs it.
 */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const describeWithChromium = existsSync(executablePath) ? describe : describe.skip;
const screenshotPath = process.env.DASHBOARD_SCREENSHOT ?? 'test/e2e/artifacts/dashboard.png';

describeWithChromium('the dashboard in Chromium', () => {
  const env = stackEnv();
  const baseUrl = env.apiUrl.replace(/\/api$/, '');
  const client = createDocumentClient();
  const store = new DynamoDbTaskStore(client, env.tableName);
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, testTimeoutMs(60_000));
  afterAll(async () => {
    await browser?.close();
    client.destroy();
  });

  it('submits a task and sees it COMPLETED, cancels another, and shows counts and the chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await page.goto(`${baseUrl}/dashboard`);
    await page.waitForSelector('#counts .count');

    const suffix = Math.random().toString(36).slice(2, 8);
    const done = `Dashboard task ${suffix}`;
    await page.fill('input[name=title]', done);
    await page.fill('input[name=description]', 'submitted from the dashboard');
    await page.click('button[type=submit]');
    await page.waitForSelector(`#message:has-text("Submitted")`);

    const submittedId = (await page.locator('#message').textContent())!.replace('Submitted ', '').trim();

    // A task that stays PENDING (stored without a message), so the cancel never races its completion. Dated
    // an hour ahead, it stays at the top of "Recent tasks" while the other suites, run in parallel against the
    // same stack, add tasks of their own.
    const doomed = `Dashboard cancel ${suffix}`;
    await store.create(newTask({ title: doomed, description: 'canceled from the dashboard', metadata: {} }, randomUUID(), new Date(Date.now() + 3_600_000)));
    await page.locator(`tr:has-text("${doomed}") button.cancel`).click({ timeout: waitMs(25_000) });
    await page.locator(`tr:has-text("${doomed}") td.status.CANCELED`).waitFor({ timeout: waitMs(15_000) });

    // A FAILED task (stored as the dead-letter consumer leaves one), retried from its row: the new task
    // is named in the message, and the failed one names it.
    const broken = `Dashboard retry ${suffix}`;
    const failedId = randomUUID();
    await store.create({ ...newTask({ title: broken, description: 'retried from the dashboard', metadata: {} }, failedId, new Date(Date.now() + 3_600_000)), status: 'FAILED', error: { code: 'PROCESSING_FAILED', message: 'boom' } });
    await page.locator(`tr:has-text("${broken}") button.retry`).click({ timeout: waitMs(25_000) });
    await page.waitForSelector('#message:has-text("Retried as")', { timeout: waitMs(15_000) });
    const retryId = (await page.locator('#message').textContent())!.replace('Retried as ', '').trim();
    expect(await store.get(failedId)).toMatchObject({ status: 'FAILED', retried_as: retryId });

    // The submitted task may already be below the newest 20 that "Recent tasks" shows: its completion is read by id.
    await expect(eventually(async () => ((await store.get(submittedId))?.status === 'COMPLETED' ? true : undefined))).resolves.toBe(true);
    // The counts and the chart come from the same public API, on the next refresh at the latest.
    // True counts (GET /api/stats): a number, never the "100+" of a page of tasks.
    await page.waitForFunction(
      "/^[1-9][0-9]*$/.test(document.querySelector('.count[data-status=COMPLETED] b').textContent)",
      undefined,
      { timeout: waitMs(25_000) },
    );
    await expect(page.locator('#queues').textContent()).resolves.toMatch(/^Queue: \d+ waiting, \d+ in flight, \d+ delayed\. High-priority queue: \d+ waiting, \d+ in flight, \d+ delayed\. Dead-letter queue: \d+ waiting/);
    // The last hour, a bar per minute: the submitted task's completion counts once the processor's
    // invocation has flushed its minute (and the stats' cache has passed).
    expect(await page.locator('#throughput rect.completed').count()).toBe(60);
    await page.waitForFunction("/^Last hour: [1-9]/.test(document.querySelector('#latency').textContent)", undefined, { timeout: waitMs(25_000) });
    await expect(page.locator('#latency').textContent()).resolves.toMatch(/^Last hour: \d+ completed, \d+ failed; submit to start p50 \d+\.\d\d s, p99 \d+\.\d\d s; start to end p50 \d+\.\d\d s, p99 \d+\.\d\d s\.$/);

    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    expect(existsSync(screenshotPath)).toBe(true);
  }, testTimeoutMs(90_000));

  it('filters the table by status and by kind', async () => {
    // Dated an hour ahead: the newest of their kind and status whatever other suites add meanwhile.
    const later = new Date(Date.now() + 3_600_000);
    const checksum = randomUUID();
    await store.create({ ...newTask({ title: `Dashboard checksum ${randomUUID().slice(0, 6)}`, description: 'd', metadata: {}, kind: 'checksum', payload: { text: 'x' } }, checksum, later), status: 'FAILED', error: { code: 'X', message: 'x' } });
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await page.goto(`${baseUrl}/dashboard`);
    await page.fill('#filter input[name=kind]', 'checksum');
    await page.selectOption('#filter select[name=status]', 'FAILED');
    // The table shows the filter once a refresh begun after both changes has drawn it (one begun before is not drawn).
    await page.waitForFunction(
      `[...document.querySelectorAll('#tasks tr')].some((row) => row.dataset.taskId === '${checksum}') &&
       [...document.querySelectorAll('#tasks tr')].every((row) => row.querySelector('td.kind').textContent === 'checksum' && row.querySelector('td.status').textContent === 'FAILED')`,
      undefined,
      { timeout: waitMs(15_000) },
    );
    const shown = await page.locator('#tasks tr').evaluateAll((rows) => rows.map((row) => [row.querySelector('td.kind')!.textContent, row.querySelector('td.status')!.textContent]));
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every(([kind, status]) => kind === 'checksum' && status === 'FAILED')).toBe(true);
    await page.selectOption('#filter select[name=status]', 'PENDING');
    await page.locator(`#tasks tr[data-task-id="${checksum}"]`).waitFor({ state: 'detached', timeout: waitMs(15_000) });
  }, testTimeoutMs(60_000));

  it('shows one task by its link, with its payload, and follows it live to its end', async () => {
    // PENDING and without a message, so nothing moves it but the cancel below: the page must show that
    // change by itself (its GET ?wait answers when the task changes), with no reload.
    const id = randomUUID();
    await store.create(newTask({ title: `Dashboard follow ${randomUUID().slice(0, 6)}`, description: 'followed live', metadata: { team: 'ops' }, payload: { size: 3 } }, id, new Date()));
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await page.goto(`${baseUrl}/dashboard#task=${id}`);
    await page.locator('#task dd.status:has-text("PENDING")').waitFor({ timeout: waitMs(15_000) });
    expect(await page.locator('#task dd.payload').textContent()).toContain('"size": 3');

    const canceled = await fetch(`${env.apiUrl}/tasks/${id}/cancel`, { method: 'POST' });
    expect(canceled.status).toBe(200);
    await page.locator('#task dd.status:has-text("CANCELED")').waitFor({ timeout: waitMs(15_000) });
    await expect(page.locator('#task dd.ended').textContent()).resolves.toMatch(/^\d{4}-/);
  }, testTimeoutMs(60_000));

  it('shows a task’s trace id and every attempt: the one that failed with its error, the one that completed', async () => {
    const traceId = randomBytes(16).toString('hex');
    const submitted = await fetch(`${env.apiUrl}/tasks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ title: 'Dashboard attempts', description: 'fails once, then completes', metadata: { team: 'ops' }, payload: { simulate: { fail_attempts: 1, work_ms: 50 } } }),
    });
    const { task_id } = (await submitted.json()) as { task_id: string };
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    await page.goto(`${baseUrl}/dashboard#task=${task_id}`);
    await page.locator('#task dd.status:has-text("COMPLETED")').waitFor({ timeout: waitMs(30_000) });
    expect(await page.locator('#task dd.trace').textContent()).toBe(traceId);
    const rows = await page.locator('#task table.attempts tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((cells) => [cells[0], cells[3]])).toEqual([
      ['1', 'FAILED'],
      ['2', 'COMPLETED'],
    ]);
    expect(rows[0]?.[4]).toMatch(/^SIMULATED_FAILURE: /);

    const taskScreenshot = screenshotPath.replace(/\.png$/, '-task.png');
    await page.locator('#task').screenshot({ path: taskScreenshot });
    expect(existsSync(taskScreenshot)).toBe(true);
  }, testTimeoutMs(60_000));
  // The receiver listens on this machine's loopback: the embedded stack's functions reach it.
  (env.onEmbeddedStack ? it : it.skip)('follows a final task until its callback is over: the failed call, then the delivered one', async () => {
    const receiver = await startCallbackReceiver();
    try {
      const submitted = await fetch(`${env.apiUrl}/tasks`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'Dashboard callback', description: 'calls back twice', payload: { simulate: { work_ms: 10 } }, callback_url: receiver.url(`/flaky/1/${randomUUID()}`) }),
      });
      const { task_id } = (await submitted.json()) as { task_id: string };
      const page = await browser.newPage();
      await page.goto(`${baseUrl}/dashboard#task=${task_id}`);
      await page.locator('#task .callback-state:has-text("DELIVERED")').waitFor({ timeout: waitMs(30_000) });
      const rows = await page.locator('#task table.callback-attempts tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      expect(rows.map((cells) => [cells[0], cells[3], cells[4]])).toEqual([
        ['1', '500', 'answered 500'],
        ['2', '200', ''],
      ]);
    } finally {
      await receiver.stop();
    }
  }, testTimeoutMs(60_000));
});
