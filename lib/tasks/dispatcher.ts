import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import type { TaskMessage } from './model';
import type { TaskQueue, TaskStore } from './ports';
import { DEFAULT_DISPATCH_AHEAD_SECONDS } from './schedule';

export interface DispatcherDeps {
  store: Pick<TaskStore, 'findDue' | 'markDispatched' | 'takeHandOffs'>;
  queue: Pick<TaskQueue, 'enqueueAll'>;
  clock: Clock;
  logger: AppLogger;
  /** Queues a held task this long before it is due; the queue delays its message by the rest (TASK_DISPATCH_AHEAD_SECONDS). */
  aheadSeconds?: number;
  /** Most tasks one run dispatches; the next run (a minute later) takes the rest, still ahead of their time. */
  limit: number;
}

const MARKS_AT_ONCE = 25;

/**
 * Queues the held tasks that are nearly due (lib/tasks/schedule.ts): each is taken out of the held
 * ones first (a conditional write, so a task canceled meanwhile is left alone and two runs never
 * both queue it), then sent with its run_at, which the queue turns into the message's delay. A send
 * that fails after the marks leaves PENDING tasks without a message, which the stale sweeper requeues
 * a stale period after they were due.
 *
 * It also sends what refused batches left to send: a batch submit answered 503 whose tasks could be
 * neither marked FAILED nor handed to the processors (an overloaded store and queue) keeps their
 * messages with its ABORTED verdict, and the processors fail each task from its message, within a
 * run of this function instead of the sweeper's stale period.
 */
export function createDueTaskDispatcher({ store, queue, clock, logger, aheadSeconds = DEFAULT_DISPATCH_AHEAD_SECONDS, limit }: DispatcherDeps) {
  return async function dispatchDueTasks(): Promise<{ dispatched: number; handedOff: number }> {
    const until = new Date(clock.now().getTime() + aheadSeconds * 1000);
    const due = await store.findDue(until, limit);
    const messages: TaskMessage[] = [];
    const handedOff = await store.takeHandOffs(limit);
    for (let start = 0; start < due.length; start += MARKS_AT_ONCE) {
      const marked = await Promise.all(due.slice(start, start + MARKS_AT_ONCE).map((taskId) => store.markDispatched(taskId)));
      messages.push(...marked.filter((message): message is TaskMessage => message !== undefined));
    }
    if (messages.length + handedOff.length > 0) {
      await queue.enqueueAll([...handedOff, ...messages]);
      if (messages.length > 0) logger.info('Dispatched delayed tasks', { count: messages.length });
      if (handedOff.length > 0) logger.warn('Handed the tasks of refused batches to the processors, which fail them', { count: handedOff.length });
    }
    return { dispatched: messages.length, handedOff: handedOff.length };
  };
}
