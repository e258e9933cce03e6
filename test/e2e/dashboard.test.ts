import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { stackEnv } from '../support/stack-env';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (nothing is
 * downloaded). Runs when Chromium is installed; `.ci/run` installs it.
 */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const describeWithChromium = existsSync(executablePath) ? describe : describe.skip;
const screenshotPath = process.env.DASHBOARD_SCREENSHOT ?? 'test/e2e/artifacts/dashboard.png';

describeWithChromium('the dashboard in Chromium', () => {
  const baseUrl = stackEnv().apiUrl.replace(/\/api$/, '');
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
  }, 60_000);
  afterAll(() => browser?.close());

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

    const doomed = `Dashboard cancel ${suffix}`;
    await page.fill('input[name=title]', doomed);
    await page.fill('input[name=description]', 'canceled from the dashboard');
    await page.click('button[type=submit]');
    const cancelButton = page.locator(`tr:has-text("${doomed}") button.cancel`);
    await cancelButton.click();
    await page.locator(`tr:has-text("${doomed}") td.status.CANCELED`).waitFor({ timeout: 15_000 });

    await page.locator(`tr:has-text("${done}") td.status.COMPLETED`).waitFor({ timeout: 20_000 });
    // The counts and the chart come from the same public API.
    expect(Number((await page.locator('.count[data-status=COMPLETED] b').innerText()).replace('+', ''))).toBeGreaterThan(0);
    expect(await page.locator('#throughput rect').count()).toBe(30);

    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    expect(existsSync(screenshotPath)).toBe(true);
  }, 60_000);
});
