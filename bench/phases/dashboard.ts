import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import type { EmbeddedStack } from '../../local/embedded-stack';
import { emulatorClients } from '../../local/emulator-clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask, type Task, type TaskStatus } from '#lib/tasks/model';
import { percentiles } from '../stats';
import { log, sleep } from '../common';

export const DASHBOARD_TASKS = 100_000;
const WATCH_MS = 30_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface DashboardResult {
  tasks: number;
  /** From opening the page to the counts showing every task. */
  firstFullCountSeconds: number;
  /** What the page asked of the API while it was watched, and how long each kind of call took. */
  watchedSeconds: number;
  calls: Record<'stats' | 'list', { count: number; p50Ms: number; maxMs: number }>;
  rowsShown: number;
  screenshot: string;
}

/**
 * 9. The dashboard in Chromium against the stack's own table holding 100,000 tasks more: how long
 * until its counts show them all, and what each refresh costs in time over 30 s (GET /api/stats
 * counts from the status index, no scan; the table reads one page of 20). The tasks are final
 * (COMPLETED, FAILED, CANCELED), so nothing starts working on them. Run last: it leaves them.
 */
export async function measureDashboard(stack: EmbeddedStack, screenshot: string, tasks = DASHBOARD_TASKS): Promise<DashboardResult | undefined> {
  if (!existsSync(CHROMIUM)) {
    log(`dashboard: skipped, no Chromium at ${CHROMIUM}`);
    return undefined;
  }
  const clients = emulatorClients(stack, 64);
  const store = new DynamoDbTaskStore(clients.dynamo, stack.env.TASKS_TABLE!);
  const finals: TaskStatus[] = ['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'CANCELED'];
  const at = new Date(Date.now() - 60_000);
  const all: Task[] = Array.from({ length: tasks }, (_, n) => ({ ...newTask({ title: `dashboard ${n}`, description: 'bench', metadata: {} }, randomUUID(), at), status: finals[n % finals.length]! }));
  const loadStarted = performance.now();
  for (let start = 0; start < all.length; start += 1_000) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.createMany(all.slice(start + i * 100, start + (i + 1) * 100))));
  }
  clients.destroy();
  log(`dashboard: ${tasks} tasks loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const started = new Map<object, number>();
    const durations: Record<'stats' | 'list', number[]> = { stats: [], list: [] };
    page.on('request', (request) => started.set(request, performance.now()));
    page.on('requestfinished', (request) => {
      const path = new URL(request.url()).pathname;
      const kind = path.endsWith('/api/stats') ? 'stats' : path.endsWith('/api/tasks') ? 'list' : undefined;
      const from = started.get(request);
      if (kind && from !== undefined && watching) durations[kind].push(performance.now() - from);
    });
    let watching = false;
    const opened = performance.now();
    await page.goto(`${stack.apiUrl.replace(/\/api$/, '')}/dashboard`);
    // A string, evaluated in the page (this project's TypeScript has no DOM types).
    await page.waitForFunction(`Number(((document.querySelector('#counted') || {}).textContent || '').replace(/^\\((\\d+) in all.*$/, '$1')) >= ${tasks}`, undefined, { timeout: 120_000, polling: 200 });
    const firstFullCountSeconds = (performance.now() - opened) / 1000;
    watching = true;
    const watchStarted = performance.now();
    await sleep(WATCH_MS);
    watching = false;
    const watchedSeconds = (performance.now() - watchStarted) / 1000;
    const rowsShown = await page.locator('#tasks tr').count();
    await page.screenshot({ path: screenshot, fullPage: true });
    const summary = (values: number[]) => {
      const { p50, max, count } = percentiles(values);
      return { count, p50Ms: Math.round(p50), maxMs: Math.round(max) };
    };
    const result = { tasks, firstFullCountSeconds, watchedSeconds, calls: { stats: summary(durations.stats), list: summary(durations.list) }, rowsShown, screenshot };
    log(`dashboard: all ${tasks} counted after ${firstFullCountSeconds.toFixed(1)} s; in ${watchedSeconds.toFixed(0)} s, ${JSON.stringify(result.calls)}; ${rowsShown} rows`);
    return result;
  } finally {
    await browser.close();
  }
}
