import pLimit from 'p-limit';
import { TaskNotCancelableError, TaskNotFoundError } from './errors';
import type { BulkCancelRequest, BulkCancelResult, RedriveRequest, RedriveResult, TaskStatus, TaskSummary } from './model';
import type { TaskService } from './service';

/** Tasks acted on at once within one call: a page of 100 takes about ten store round trips in sequence. */
const CONCURRENCY = 10;

/**
 * The operator's actions on many tasks: each call looks at one page of a status (at most 100
 * tasks, so it ends well inside the API's time) and says where the next call continues. Each is
 * safe to repeat: a task is retried at most once, and canceling a CANCELED task changes nothing.
 */
export function createBulkActions(tasks: Pick<TaskService, 'list' | 'retry' | 'cancel'>) {
  /** One page of `status`, and `act` on each of its tasks that `due` keeps, up to CONCURRENCY at once. */
  async function eachOfPage<T>(status: TaskStatus, { limit, cursor }: { limit: number; cursor?: string | undefined }, due: (task: TaskSummary) => boolean, act: (task: TaskSummary) => Promise<T>) {
    const page = await tasks.list({ status, limit, ...(cursor ? { cursor } : {}) });
    const chosen = page.tasks.filter(due);
    const limited = pLimit(CONCURRENCY);
    const outcomes = await Promise.all(chosen.map((task) => limited(() => act(task))));
    return { outcomes, looked: page.tasks.length, nextCursor: page.nextCursor };
  }

  return {
    /** Retries each FAILED task of the page not retried yet (that failed after `failed_after`, if given) as a new task. */
    async redrive({ failed_after, ...page }: RedriveRequest): Promise<RedriveResult> {
      // A task retried already is left alone. Until its retry is named, a FAILED task's updated_at is when it failed.
      const { outcomes, looked, nextCursor } = await eachOfPage(
        'FAILED',
        page,
        (task) => task.retried_as === null && (failed_after === undefined || task.updated_at > failed_after),
        (task) => tasks.retry(task.task_id),
      );
      return {
        redriven: outcomes.map((retry) => ({ task_id: retry.retry_of, retry_task_id: retry.task_id })),
        skipped: looked - outcomes.length,
        next_cursor: nextCursor,
      };
    },

    /** Cancels each PENDING task of the page (created before `created_before`, if given). */
    async cancelPending({ created_before, status: _pending, ...page }: BulkCancelRequest): Promise<BulkCancelResult> {
      const { outcomes, nextCursor } = await eachOfPage(
        'PENDING',
        page,
        (task) => created_before === undefined || task.created_at < created_before,
        async (task) => {
          try {
            await tasks.cancel(task.task_id);
            return { canceled: task.task_id };
          } catch (error) {
            // Moved on since the page was read: COMPLETED or FAILED, or deleted by its retention.
            if (error instanceof TaskNotCancelableError) return { skipped: { task_id: task.task_id, status: error.status } };
            if (error instanceof TaskNotFoundError) return {};
            throw error;
          }
        },
      );
      return {
        canceled: outcomes.flatMap((outcome) => (outcome.canceled ? [outcome.canceled] : [])),
        skipped: outcomes.flatMap((outcome) => (outcome.skipped ? [outcome.skipped] : [])),
        next_cursor: nextCursor,
      };
    },
  };
}

export type BulkActions = ReturnType<typeof createBulkActions>;
