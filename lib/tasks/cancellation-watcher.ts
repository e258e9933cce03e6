import type { AppLogger } from '#lib/logger';
import type { TaskStore } from './ports';

/**
 * Watches every task this container is working on for a cancel, with one batched status read per
 * tick for all of them (not one read per task), and aborts the work of those found CANCELED.
 * It polls only while something is being watched.
 */
export class CancellationWatcher {
  private readonly watched = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<TaskStore, 'getStatuses'>,
    private readonly intervalMs: number,
    private readonly logger: AppLogger,
  ) {}

  /** Starts watching `taskId`; the returned signal aborts when it is canceled. Call the returned stop when done. */
  watch(taskId: string): { signal: AbortSignal; stop: () => void } {
    const controller = new AbortController();
    this.watched.set(taskId, controller);
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs).unref();
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
        if (status === 'CANCELED') this.watched.get(taskId)?.abort(new Error(`Task ${taskId} was canceled`));
      }
    } catch (error) {
      this.logger.warn('Cancel check failed; the work goes on', { task_ids: taskIds, error });
    }
  }
}
