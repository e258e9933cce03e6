import type { EmbeddedStack } from '../../local/embedded-stack';
import { percentiles, type Percentiles } from '../stats';
import { log, post, sleep } from '../common';

export const BACKLOG = 10_000;
const HIGH_TASKS = 20;

export interface PriorityResult {
  backlog: number;
  /** Submit → start of each high task, submitted one every 250 ms once the backlog is being worked. */
  highStartMs: Percentiles;
  /** Normal tasks completed while the high ones were submitted and started: the normal lane was not starved. */
  normalCompletedMeanwhile: number;
  /** Normal tasks still PENDING when the last high task started: the backlog the high ones overtook. */
  normalPendingAtEnd: number;
}

type Stats = { tasks: { by_status: Record<string, number> } };

/**
 * 10. High-priority tasks behind a backlog of 10,000 normal ones: the normal lane's trigger paused
 * while the backlog is submitted (100 batches of 100), then resumed; once it is at work, 20 high
 * tasks one every 250 ms, each followed until it starts. Then the rest of the backlog is canceled
 * (POST /api/tasks/cancel, page by page), so the phases after it meet an idle stack.
 */
export async function measurePriority(stack: EmbeddedStack): Promise<PriorityResult> {
  const api = stack.apiUrl;
  const stats = async () => (await (await fetch(`${api}/stats`)).json()) as Stats;
  stack.pauseTriggers();
  for (let batch = 0; batch < BACKLOG / 100; batch += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(`${api}/tasks/batch`, { tasks: Array.from({ length: 100 }, (_, n) => ({ title: `backlog ${(batch + i) * 100 + n}`, description: 'bench' })) }),
      ),
    );
  }
  stack.resumeTriggers();
  await sleep(3_000);
  const before = await stats();
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: HIGH_TASKS }, async (_, n) => {
      await sleep(n * 250);
      const submitted = await post(`${api}/tasks`, { title: `high ${n}`, description: 'bench', priority: 'high' });
      const id = (submitted.json as { task_id: string }).task_id;
      for (;;) {
        const task = (await (await fetch(`${api}/tasks/${id}`)).json()) as { created_at: string; started_at: string | null };
        if (task.started_at) {
          latencies.push(Date.parse(task.started_at) - Date.parse(task.created_at));
          return;
        }
        await sleep(100);
      }
    }),
  );
  // GET /api/stats keeps its numbers 5 s: wait them out for a fresh count.
  await sleep(5_500);
  const after = await stats();
  const result: PriorityResult = {
    backlog: BACKLOG,
    highStartMs: percentiles(latencies),
    normalCompletedMeanwhile: (after.tasks.by_status.COMPLETED ?? 0) - (before.tasks.by_status.COMPLETED ?? 0) - HIGH_TASKS,
    normalPendingAtEnd: after.tasks.by_status.PENDING ?? 0,
  };
  log(`priority: ${HIGH_TASKS} high tasks behind ${BACKLOG} normal: start p50 ${result.highStartMs.p50} ms, p99 ${result.highStartMs.p99} ms; ${result.normalCompletedMeanwhile} normal completed meanwhile, ${result.normalPendingAtEnd} still PENDING`);
  let cursor: string | undefined;
  do {
    const page = await post(`${api}/tasks/cancel`, { status: 'PENDING', limit: 100, ...(cursor ? { cursor } : {}) });
    cursor = (page.json as { next_cursor: string | null }).next_cursor ?? undefined;
  } while (cursor);
  return result;
}
