import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import { noMetrics, type TaskMetrics } from '#lib/metrics';
import { IdempotencyKeyReusedError, TaskNotCancelableError, TaskNotFoundError } from './errors';
import {
  IDEMPOTENCY_WINDOW_SECONDS,
  newTask,
  type SubmitTaskInput,
  type SubmittedBatch,
  type SubmittedTask,
  type Task,
} from './model';
import type { ListQuery, TaskPage, TaskQueue, TaskStore } from './ports';

export interface TaskServiceDeps {
  store: TaskStore;
  queue: TaskQueue;
  clock: Clock;
  logger: AppLogger;
  metrics?: TaskMetrics;
  newId?: () => string;
}

const accepted = (taskId: string, createdAt: string): SubmittedTask => ({
  task_id: taskId,
  status: 'PENDING',
  message: 'Task accepted for processing',
  created_at: createdAt,
});

/** A digest of the validated body, keys sorted, so the same request written differently is still the same. */
export function fingerprintOf(input: SubmitTaskInput): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex');
}

/** The client-facing use cases: submit, read, list and cancel. */
export function createTaskService({ store, queue, clock, logger, metrics = noMetrics, newId = randomUUID }: TaskServiceDeps) {
  /** A stored task whose message could not be sent must not wait as PENDING: it becomes FAILED. */
  const markUnqueued = (taskId: string) =>
    store
      .transition(taskId, {
        to: 'FAILED',
        at: clock.now(),
        error: { code: 'ENQUEUE_FAILED', message: 'The task could not be queued for processing' },
      })
      .catch((markError: unknown) => logger.error('Could not mark an unqueued task FAILED', { task_id: taskId, error: markError }));

  return {
    /**
     * Stores the task, then enqueues it. If the enqueue fails the task is marked FAILED
     * (ENQUEUE_FAILED) before the error reaches the client as a 503, so no task waits as
     * PENDING for a message that was never sent.
     */
    async submit(input: SubmitTaskInput, idempotencyKey?: string): Promise<SubmittedTask> {
      const now = clock.now();
      const task = newTask(input, newId(), now);
      if (idempotencyKey === undefined) {
        await store.create(task);
      } else {
        const fingerprint = fingerprintOf(input);
        const existing = await store.createIdempotent(task, {
          key: idempotencyKey,
          fingerprint,
          taskId: task.task_id,
          createdAt: task.created_at,
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_WINDOW_SECONDS * 1000),
        });
        if (existing) {
          if (existing.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
          logger.info('Submit replayed for its idempotency key', { task_id: existing.taskId });
          return accepted(existing.taskId, existing.createdAt);
        }
      }
      try {
        await queue.enqueue({ task_id: task.task_id });
      } catch (enqueueError) {
        if (idempotencyKey !== undefined) {
          await store
            .releaseIdempotencyKey(idempotencyKey, task.task_id)
            .catch((releaseError: unknown) => logger.error('Could not release an idempotency key', { error: releaseError }));
        }
        await markUnqueued(task.task_id);
        throw enqueueError;
      }
      logger.info('Task submitted', { task_id: task.task_id });
      metrics.count('TasksSubmitted');
      return accepted(task.task_id, task.created_at);
    },

    /**
     * Stores and queues up to 100 tasks with batched calls. If the enqueue fails, every task of
     * the batch is marked FAILED (ENQUEUE_FAILED) and the error reaches the client as a 503, so the
     * batch is all or nothing for the client too.
     */
    async submitBatch(inputs: SubmitTaskInput[]): Promise<SubmittedBatch> {
      const now = clock.now();
      const tasks = inputs.map((input) => newTask(input, newId(), now));
      await store.createMany(tasks);
      try {
        await queue.enqueueAll(tasks.map((task) => ({ task_id: task.task_id })));
      } catch (enqueueError) {
        await Promise.all(tasks.map((task) => markUnqueued(task.task_id)));
        throw enqueueError;
      }
      logger.info('Task batch submitted', { count: tasks.length, task_ids: tasks.map((task) => task.task_id) });
      metrics.count('TasksSubmitted', tasks.length);
      return { tasks: tasks.map((task) => ({ task_id: task.task_id, status: 'PENDING' as const })) };
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
        metrics.count('TasksCanceled');
        return outcome.task;
      }
      if (!outcome.current) throw new TaskNotFoundError(taskId);
      if (outcome.current.status === 'CANCELED') return outcome.current;
      throw new TaskNotCancelableError(taskId, outcome.current.status);
    },
  };
}

export type TaskService = ReturnType<typeof createTaskService>;
