import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import type { TaskMessage } from './model';
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
    const messages: TaskMessage[] = [];
    let after: StalePosition | undefined;
    for (let page = 0; page < PAGES_PER_RUN && messages.length < limit; page++) {
      const candidates = await store.findUnfinishedCreatedBefore(before, limit, after);
      for (let start = 0; start < candidates.length && messages.length < limit; start += MARKS_AT_ONCE) {
        const slice = candidates.slice(start, start + MARKS_AT_ONCE).map((candidate) => candidate.taskId);
        // A task of a batch goes with its batch, so it still runs only if that batch was committed.
        const marked = await Promise.all(slice.map((taskId) => store.markRequeued(taskId, now, before)));
        messages.push(...marked.filter((message): message is TaskMessage => message !== undefined));
      }
      if (candidates.length < limit) break;
      after = candidates.at(-1);
    }
    if (messages.length > 0) {
      await queue.enqueueAll(messages);
      logger.warn('Requeued stale unfinished tasks', { count: messages.length, task_ids: messages.slice(0, 50).map((message) => message.task_id) });
    }
    return { requeued: messages.length };
  };
}
