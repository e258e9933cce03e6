import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import type { StalePosition, TaskQueue, TaskStore } from './ports';

export interface SweeperDeps {
  store: TaskStore;
  queue: TaskQueue;
  clock: Clock;
  logger: AppLogger;
  /** A PENDING or PROCESSING task older than this has lost its message (or waits behind a very long backlog). */
  staleAfterSeconds: number;
  /** Most tasks requeued by one run; the next run takes the rest. */
  limit: number;
}

/** Pages of candidates one run reads at most, `limit` each: room to pass over tasks that only wait. */
const PAGES_PER_RUN = 5;
const MARKS_AT_ONCE = 25;

/**
 * Requeues unfinished tasks that have waited too long: the safety net for a submit that stored its
 * task and died before the send, and for any message lost afterwards (a PROCESSING task whose
 * worker died and whose message is gone is taken over once its lease has run out). The oldest go
 * first, whatever their shard; a task held by a live worker, or requeued within the stale period
 * (it only waits behind a backlog), is passed over, so a run never floods the queue with copies and
 * a backlog does not hide a lost task behind it. A task that still has a message gets a second one,
 * which the processor's conditional claim absorbs.
 */
export function createStaleTaskSweeper({ store, queue, clock, logger, staleAfterSeconds, limit }: SweeperDeps) {
  return async function requeueStaleTasks(): Promise<{ requeued: number }> {
    const now = clock.now();
    const before = new Date(now.getTime() - staleAfterSeconds * 1000);
    const taskIds: string[] = [];
    let after: StalePosition | undefined;
    for (let page = 0; page < PAGES_PER_RUN && taskIds.length < limit; page++) {
      const candidates = await store.findUnfinishedCreatedBefore(before, limit, after);
      for (let start = 0; start < candidates.length && taskIds.length < limit; start += MARKS_AT_ONCE) {
        const slice = candidates.slice(start, start + MARKS_AT_ONCE).map((candidate) => candidate.taskId);
        const marked = await Promise.all(slice.map((taskId) => store.markRequeued(taskId, now, before)));
        taskIds.push(...slice.filter((_, index) => marked[index]));
      }
      if (candidates.length < limit) break;
      after = candidates.at(-1);
    }
    if (taskIds.length > 0) {
      await queue.enqueueAll(taskIds.map((task_id) => ({ task_id })));
      logger.warn('Requeued stale unfinished tasks', { count: taskIds.length, task_ids: taskIds.slice(0, 50) });
    }
    return { requeued: taskIds.length };
  };
}
