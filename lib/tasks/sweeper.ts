import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import type { TaskQueue, TaskStore } from './ports';

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

/**
 * Requeues unfinished tasks that have waited too long: the safety net for a submit that stored its
 * task and died before the send, and for any message lost afterwards (a PROCESSING task whose
 * worker died and whose message is gone is taken over once its lease has run out). A task that
 * still has a message gets a second one, which the processor's conditional claim absorbs.
 */
export function createStaleTaskSweeper({ store, queue, clock, logger, staleAfterSeconds, limit }: SweeperDeps) {
  return async function requeueStaleTasks(): Promise<{ requeued: number }> {
    const before = new Date(clock.now().getTime() - staleAfterSeconds * 1000);
    const taskIds = await store.findUnfinishedCreatedBefore(before, limit);
    if (taskIds.length > 0) {
      await queue.enqueueAll(taskIds.map((task_id) => ({ task_id })));
      logger.warn('Requeued stale unfinished tasks', { count: taskIds.length, task_ids: taskIds.slice(0, 50) });
    }
    return { requeued: taskIds.length };
  };
}
