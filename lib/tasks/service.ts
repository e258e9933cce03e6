import { randomUUID } from 'node:crypto';
import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import { TaskNotCancelableError, TaskNotFoundError } from './errors';
import { newTask, type SubmitTaskInput, type SubmittedTask, type Task } from './model';
import type { ListQuery, TaskPage, TaskQueue, TaskStore } from './ports';

export interface TaskServiceDeps {
  store: TaskStore;
  queue: TaskQueue;
  clock: Clock;
  logger: AppLogger;
  newId?: () => string;
}

/** The client-facing use cases: submit, read and cancel. */
export function createTaskService({ store, queue, clock, logger, newId = randomUUID }: TaskServiceDeps) {
  return {
    /**
     * Stores the task, then enqueues it. If the enqueue fails the task is marked FAILED
     * (ENQUEUE_FAILED) before the error reaches the client as a 503, so no task waits as
     * PENDING for a message that was never sent.
     */
    async submit(input: SubmitTaskInput): Promise<SubmittedTask> {
      const task = newTask(input, newId(), clock.now());
      await store.create(task);
      try {
        await queue.enqueue({ task_id: task.task_id });
      } catch (enqueueError) {
        await store
          .transition(task.task_id, {
            to: 'FAILED',
            at: clock.now(),
            error: { code: 'ENQUEUE_FAILED', message: 'The task could not be queued for processing' },
          })
          .catch((markError: unknown) =>
            logger.error('Could not mark an unqueued task FAILED', { task_id: task.task_id, error: markError }),
          );
        throw enqueueError;
      }
      logger.info('Task submitted', { task_id: task.task_id });
      return {
        task_id: task.task_id,
        status: 'PENDING',
        message: 'Task accepted for processing',
        created_at: task.created_at,
      };
    },

    async get(taskId: string): Promise<Task> {
      const task = await store.get(taskId);
      if (!task) throw new TaskNotFoundError(taskId);
      return task;
    },

    /** A page of tasks, newest first, optionally of one status. */
    list(query: ListQuery): Promise<TaskPage> {
      return store.list(query);
    },

    /** Cancels a PENDING or PROCESSING task; canceling a CANCELED task again is not an error. */
    async cancel(taskId: string): Promise<Task> {
      const outcome = await store.transition(taskId, { to: 'CANCELED', at: clock.now() });
      if (outcome.applied) {
        logger.info('Task canceled', { task_id: taskId });
        return outcome.task;
      }
      if (!outcome.current) throw new TaskNotFoundError(taskId);
      if (outcome.current.status === 'CANCELED') return outcome.current;
      throw new TaskNotCancelableError(taskId, outcome.current.status);
    },
  };
}

export type TaskService = ReturnType<typeof createTaskService>;
