import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import type { TaskQueue, TaskStore } from './ports';

export interface SweeperDeps {
  store: TaskStore;
  queue: TaskQueue;
  clock: Clock;
  logger: AppLogger;
  /** A PENDING task older than this has lost its message (or waits behind a very long backlog). */
  staleAfterSeconds: number;
  /** Most tasks requeued by one run; the next run takes the rest. */
  limit: number;
}

/**
 * Requeues PENDING tasks that have waited too long: the safety net for a submit that stored its
 * task and died before the send. A task that did have a message gets a second one, which the
 * processor's conditional claim turns into a no-op.
 */
export function createStalePendingSweeper({ store, queue, clock, logger, staleAfterSeconds, limit }: SweeperDeps) {
  return async function requeueStalePending(): Promise<{ requeued: number }> {
    const before = new Date(clock.now().getTime() - staleAfterSeconds * 1000);
    const taskIds = await store.findPendingCreatedBefore(before, limit);
    if (taskIds.length > 0) {
      await queue.enqueueAll(taskIds.map((task_id) => ({ task_id })));
      logger.warn('Requeued stale PENDING tasks', { count: taskIds.length, task_ids: taskIds.slice(0, 50) });
    }
    return { requeued: taskIds.length };
  };
}
