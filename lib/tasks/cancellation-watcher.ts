import { withoutDeadline } from '#lib/deadline';
import type { AppLogger } from '#lib/logger';
import type { TaskStatus } from './model';
import type { TaskStore } from './ports';
import { isFinal } from './transitions';

/** Why a watched task's work was stopped: it reached a final status elsewhere (a cancel, a failure marked by the submitter). */
export class TaskEndedElsewhereError extends Error {
  override readonly name = 'TaskEndedElsewhereError';
  constructor(
    readonly taskId: string,
    readonly status: TaskStatus,
  ) {
    super(`Task ${taskId} is ${status}`);
  }
}

/**
 * Watches every task this container is working on for a cancel, with one batched status read per
 * tick for all of them (not one read per task), and aborts the work of those found in a final
 * status (CANCELED, or FAILED by a submit that could not queue its batch). It polls only while
 * something is being watched, outside any one invocation's time budget.
 */
export class CancellationWatcher {
  private readonly watched = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<TaskStore, 'getStatuses'>,
    private readonly intervalMs: number,
    private readonly logger: AppLogger,
  ) {}

  /** Starts watching `taskId`; the returned signal aborts (with a TaskEndedElsewhereError) when it is final. Call the returned stop when done. */
  watch(taskId: string): { signal: AbortSignal; stop: () => void } {
    const controller = new AbortController();
    this.watched.set(taskId, controller);
    this.timer ??= withoutDeadline(() => setInterval(() => void this.poll(), this.intervalMs).unref());
    return {
      signal: controller.signal,
      stop: () => {
        if (this.watched.get(taskId) === controller) this.watched.delete(taskId);
        if (this.watched.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  private async poll(): Promise<void> {
    const taskIds = [...this.watched.keys()];
    if (taskIds.length === 0) return;
    try {
      const statuses = await this.store.getStatuses(taskIds);
      for (const [taskId, status] of statuses) {
        if (isFinal(status)) this.watched.get(taskId)?.abort(new TaskEndedElsewhereError(taskId, status));
      }
    } catch (error) {
      this.logger.warn('Cancel check failed; the work goes on', { task_ids: taskIds, error });
    }
  }
}
