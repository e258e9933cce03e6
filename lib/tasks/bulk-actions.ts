import pLimit from 'p-limit';
import { TaskNotCancelableError, TaskNotFoundError } from './errors';
import type { BulkCancelRequest, BulkCancelResult, RedriveRequest, RedriveResult } from './model';
import type { TaskService } from './service';

/** Tasks acted on at once within one call: a page of 100 takes about ten store round trips in sequence. */
const CONCURRENCY = 10;

/**
 * The operator's actions on many tasks: each call looks at one page of a status (at most 100
 * tasks, so it ends well inside the API's time) and says where the next call continues. Each is
 * safe to repeat: a task is retried at most once, and canceling a CANCELED task changes nothing.
 */
export function createBulkActions(tasks: Pick<TaskService, 'list' | 'retry' | 'cancel'>) {
  return {
    /** Retries each FAILED task of the page not retried yet (that failed after `failed_after`, if given) as a new task. */
    async redrive({ failed_after, limit, cursor }: RedriveRequest): Promise<RedriveResult> {
      const page = await tasks.list({ status: 'FAILED', limit, ...(cursor ? { cursor } : {}) });
      // A task retried already is left alone. Until its retry is named, a FAILED task's updated_at is when it failed.
      const due = page.tasks.filter((task) => task.retried_as === null && (failed_after === undefined || task.updated_at > failed_after));
      const act = pLimit(CONCURRENCY);
      const retries = await Promise.all(due.map((task) => act(() => tasks.retry(task.task_id))));
      return {
        redriven: retries.map((retry) => ({ task_id: retry.retry_of, retry_task_id: retry.task_id })),
        skipped: page.tasks.length - due.length,
        next_cursor: page.nextCursor,
      };
    },

    /** Cancels each PENDING task of the page (created before `created_before`, if given). */
    async cancelPending({ created_before, limit, cursor }: BulkCancelRequest): Promise<BulkCancelResult> {
      const page = await tasks.list({ status: 'PENDING', limit, ...(cursor ? { cursor } : {}) });
      const due = page.tasks.filter((task) => created_before === undefined || task.created_at < created_before);
      const act = pLimit(CONCURRENCY);
      const outcomes = await Promise.all(
        due.map((task) =>
          act(async () => {
            try {
              await tasks.cancel(task.task_id);
              return { canceled: task.task_id };
            } catch (error) {
              // Moved on since the page was read: COMPLETED or FAILED, or deleted by its retention.
              if (error instanceof TaskNotCancelableError) return { skipped: { task_id: task.task_id, status: error.status } };
              if (error instanceof TaskNotFoundError) return {};
              throw error;
            }
          }),
        ),
      );
      return {
        canceled: outcomes.flatMap((outcome) => (outcome.canceled ? [outcome.canceled] : [])),
        skipped: outcomes.flatMap((outcome) => (outcome.skipped ? [outcome.skipped] : [])),
        next_cursor: page.nextCursor,
      };
    },
  };
}

export type BulkActions = ReturnType<typeof createBulkActions>;
