import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '#lib/clock';
import { remainingMs, unlessPastDeadline, withReserve } from '#lib/deadline';
import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyUnavailableError } from '#lib/errors';
import type { AppLogger } from '#lib/logger';
import { currentTrace } from '#lib/trace';
import { IdempotencyKeyReusedError, TaskNotCancelableError, TaskNotFoundError, TaskNotRetryableError } from './errors';
import {
  BATCH_NOT_ACCEPTED,
  ENQUEUE_FAILED,
  IDEMPOTENCY_WINDOW_SECONDS,
  messageOf,
  newTask,
  type BatchRef,
  type BatchVerdict,
  type RetriedTask,
  type SubmitTaskInput,
  type SubmittedBatch,
  type SubmittedTask,
  type Task,
  type TaskMessage,
  type TaskError,
} from './model';
import { DEFAULT_KIND } from './kind';
import { DEFAULT_DISPATCH_AHEAD_SECONDS, isHeld } from './schedule';
import { noMetrics, type ListQuery, type TaskMetrics, type TaskPage, type TaskQueue, type TaskStore } from './ports';

/** The trace of the request submitting a task, kept on the task so its page can name the trace its log lines carry. */
const submitTraceId = () => currentTrace()?.traceId ?? null;

export interface TaskServiceDeps {
  store: TaskStore;
  queue: TaskQueue;
  clock: Clock;
  logger: AppLogger;
  metrics?: TaskMetrics;
  newId?: () => string;
  /** How often a waiting read looks at the task again: one consistent read each. */
  waitPollMs?: number;
  /** A task due later than this after its submit is held for the dispatcher, not queued (TASK_DISPATCH_AHEAD_SECONDS; the store's must match). */
  dispatchAheadSeconds?: number;
}

/** Without an invocation's budget (scripts, tests), how long a batch submit has to commit. */
const DEFAULT_COMMIT_WINDOW_MS = 30_000;

export const DEFAULT_WAIT_POLL_MS = 500;

/** Time a submit keeps back from its budget to undo what it stored when the rest cannot be done. */
export const UNDO_RESERVE_MS = 1_500;

/**
 * What a batch submit keeps back to learn its batch's verdict when the commit's outcome is unknown
 * (its answer lost, the store refusing for a while): the client must get the answer the store holds.
 */
export const BATCH_VERDICT_RESERVE_MS = 4_000;
const VERDICT_RETRY_MS = 150;
/** How long the verdict is asked for: past that, the store is down rather than failing now and then. */
const VERDICT_RETRY_WINDOW_MS = 2_000;

const accepted = (taskId: string, createdAt: string): SubmittedTask => ({
  task_id: taskId,
  status: 'PENDING',
  message: 'Task accepted for processing',
  created_at: createdAt,
});

/**
 * A digest of the validated body, keys sorted, so the same request written differently is still the
 * same. The default kind counts as no kind: a retry of a request made before kinds existed still matches.
 */
export function fingerprintOf({ kind, ...rest }: SubmitTaskInput): string {
  const input = kind === undefined || kind === DEFAULT_KIND ? rest : { ...rest, kind };
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex');
}

/** The client-facing use cases: submit, read, list and cancel. */
export function createTaskService({
  store,
  queue,
  clock,
  logger,
  metrics = noMetrics,
  newId = randomUUID,
  waitPollMs = DEFAULT_WAIT_POLL_MS,
  dispatchAheadSeconds = DEFAULT_DISPATCH_AHEAD_SECONDS,
}: TaskServiceDeps) {
  /**
   * Aborts a batch unless it has a verdict, retrying within the budget; the verdict, or undefined if
   * the store never answered. `handOff`: its messages, kept with the verdict for the dispatcher.
   */
  const settleUntilKnown = async (batchId: string, handOff?: TaskMessage[]): Promise<BatchVerdict | undefined> => {
    const giveUpAt = Date.now() + VERDICT_RETRY_WINDOW_MS;
    for (;;) {
      try {
        return await store.settleBatch(batchId, 'ABORTED', handOff);
      } catch (abortError) {
        const left = remainingMs();
        if (left === undefined || left < VERDICT_RETRY_MS * 2 || Date.now() > giveUpAt) {
          logger.error('Could not abort a refused batch; its processors will', { batch_id: batchId, error: abortError });
          return undefined;
        }
        await sleep(VERDICT_RETRY_MS);
      }
    }
  };

  const read = async (taskId: string): Promise<Task> => {
    const task = await store.get(taskId);
    if (!task) throw new TaskNotFoundError(taskId);
    return task;
  };

  /**
   * A stored task whose submit could not be completed must never run: it becomes FAILED, from
   * PENDING or from PROCESSING (a worker that already claimed it stops, and its completion is refused).
   * True when the task is FAILED now or was never stored; false when the store could not be told.
   */
  const markFailed = (taskId: string, error: TaskError): Promise<boolean> =>
    store
      .transition(taskId, { to: 'FAILED', at: clock.now(), error })
      .then((outcome) => outcome.applied || outcome.current === undefined || outcome.current.status === 'FAILED')
      .catch((markError: unknown) => {
        logger.error('Could not mark an unqueued task FAILED', { task_id: taskId, error: markError });
        return false;
      });
  const markUnqueued = (taskId: string) => markFailed(taskId, ENQUEUE_FAILED);

  /** The messages of a batch, naming it: one for each of its tasks not held for the dispatcher. */
  const messagesOf = (tasks: Task[], batch: BatchRef): TaskMessage[] =>
    tasks.filter((task) => !isHeld(task, dispatchAheadSeconds)).map((task) => messageOf(task, batch));
  const enqueueBatch = (tasks: Task[], batch: BatchRef): Promise<void> => queue.enqueueAll(messagesOf(tasks, batch));

  /** Sends the messages of a refused batch again; false when the queue would not take them. */
  const handOver = (tasks: Task[], batch: BatchRef): Promise<boolean> =>
    enqueueBatch(tasks, batch)
      .then(() => true)
      .catch((sendError: unknown) => {
        logger.warn('Could not hand the tasks of a refused batch to the processors', { batch_id: batch.id, error: sendError });
        return false;
      });

  /**
   * Enqueues a stored task. If the enqueue fails the task is marked FAILED (ENQUEUE_FAILED) before
   * the error goes on (a 503 for the client), so no task waits as PENDING for a message never sent;
   * `onceMarked` runs only when the task can no longer run.
   */
  const enqueueStored = async (task: Task, onceMarked?: () => Promise<void>): Promise<void> => {
    // A task held for later is queued by the dispatcher, when it is nearly due.
    if (isHeld(task, dispatchAheadSeconds)) return;
    try {
      // The enqueue leaves time in the budget to mark the task FAILED if it does not go through.
      await withReserve(UNDO_RESERVE_MS, () => queue.enqueue(messageOf(task)));
    } catch (enqueueError) {
      if ((await markUnqueued(task.task_id)) && onceMarked) await onceMarked();
      throw enqueueError;
    }
  };

  return {
    /**
     * Stores the task, then enqueues it. If the enqueue fails the task is marked FAILED
     * (ENQUEUE_FAILED) before the error reaches the client as a 503, so no task waits as
     * PENDING for a message that was never sent.
     */
    async submit(input: SubmitTaskInput, idempotencyKey?: string): Promise<SubmittedTask> {
      const now = clock.now();
      const task = newTask(input, newId(), now, submitTraceId());
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
      // The key is freed only once its task can no longer run: were it freed first and the marking
      // failed, a retry with the same key would create a second task beside one that may still run.
      await enqueueStored(task, async () => {
        if (idempotencyKey === undefined) return;
        await store
          .releaseIdempotencyKey(idempotencyKey, task.task_id)
          .catch((releaseError: unknown) => logger.error('Could not release an idempotency key', { error: releaseError }));
      });
      logger.info('Task submitted', { task_id: task.task_id });
      metrics.count('TasksSubmitted');
      return accepted(task.task_id, task.created_at);
    },

    /**
     * Stores and queues up to 100 tasks with batched calls, then commits the batch: its tasks run
     * only once it is committed. If any call fails, the batch is aborted and every task is marked
     * FAILED (BATCH_NOT_ACCEPTED) before the error reaches the client as a 503: a 503 means none of
     * it runs, even when the abort or the marking fails too (a processor aborts a batch that has no
     * verdict by `commit_by`, and fails the tasks it is sent).
     */
    async submitBatch(inputs: SubmitTaskInput[]): Promise<SubmittedBatch> {
      const now = clock.now();
      const tasks = inputs.map((input) => newTask(input, newId(), now, submitTraceId()));
      const batch: BatchRef = { id: newId(), commit_by: new Date(now.getTime() + (remainingMs() ?? DEFAULT_COMMIT_WINDOW_MS)).toISOString() };
      let commitSent = false;
      try {
        await withReserve(BATCH_VERDICT_RESERVE_MS, async () => {
          await store.createMany(tasks, batch);
          await enqueueBatch(tasks, batch);
          commitSent = true;
          // Refused only when a processor aborted the batch first, past its commit_by.
          if ((await store.settleBatch(batch.id, 'COMMITTED')) !== 'COMMITTED') throw new DependencyUnavailableError('task store');
        });
      } catch (submitError) {
        // Not every task may have its message (the store or the queue failed first). A message is
        // all a processor needs to fail a task of a batch that is not committed (it aborts one with
        // no verdict past commit_by), and a duplicate of one already sent changes nothing. So they
        // are handed over first, with the verdict's time kept back (at most half of what is left: a
        // failed call may have answered late): under load it is the marking below that runs out of
        // time, and its calls can answer past their deadline.
        const handedOver =
          commitSent || (await withReserve(Math.min(VERDICT_RETRY_WINDOW_MS, (remainingMs() ?? 0) / 2), () => handOver(tasks, batch)));
        // A commit whose answer was lost may have been applied: the first verdict stands either way,
        // and the answer must be the one the store holds, so the abort is tried until it is known.
        // Messages the queue would not take go with the abort, for the dispatcher to send.
        const verdict = await settleUntilKnown(batch.id, handedOver ? undefined : messagesOf(tasks, batch));
        if (verdict === undefined && commitSent) {
          // Neither answer came back: the commit may have landed, and its tasks may be running, so a
          // 503 (none of it runs) could be false. A 202 stays true either way: every task is stored
          // and queued, and runs if the commit landed; if not, a processor aborts the batch past
          // its commit_by and each task ends FAILED (BATCH_NOT_ACCEPTED), which its GET shows.
          logger.warn('A batch was answered 202 without its verdict: its tasks run if the commit landed, else they end FAILED', { batch_id: batch.id, error: submitError });
        } else if (verdict !== 'COMMITTED') {
          // FAILED at once where the store takes it; where not, the processors fail them from their messages.
          const marking = Promise.all(tasks.map((task) => markFailed(task.task_id, BATCH_NOT_ACCEPTED)));
          const marked = (await unlessPastDeadline(marking)) ?? tasks.map(() => false);
          const unmarked = tasks.filter((_, index) => !marked[index]);
          if (unmarked.length > 0 && !handedOver) {
            logger.error('Tasks of a refused batch could not be marked FAILED nor handed to the processors; the batch is aborted, so none runs, and the dispatcher hands them over at its next run', {
              task_ids: unmarked.map((task) => task.task_id),
            });
          }
          throw submitError;
        }
      }
      logger.info('Task batch submitted', { count: tasks.length, batch_id: batch.id, task_ids: tasks.map((task) => task.task_id) });
      metrics.count('TasksSubmitted', tasks.length);
      return { tasks: tasks.map((task) => ({ task_id: task.task_id, status: 'PENDING' as const })) };
    },

    get: read,

    /**
     * The task once `settled(task)` holds, or as it stands after `waitMs` or when the invocation's
     * time runs out, whichever comes first: what a client long-polls on instead of polling itself.
     */
    async waitFor(taskId: string, settled: (task: Task) => boolean, waitMs: number): Promise<Task> {
      let task = await read(taskId);
      for (let polls = Math.floor(waitMs / waitPollMs); polls > 0 && !settled(task); polls--) {
        const left = remainingMs();
        if (left !== undefined && left < waitPollMs * 2) break;
        await sleep(waitPollMs);
        task = await read(taskId);
      }
      return task;
    },

    /** A page of tasks, newest first, optionally of one status. */
    list(query: ListQuery): Promise<TaskPage> {
      return store.list(query);
    },

    /**
     * Retries a FAILED task as a new task (same title, description, metadata, kind and payload, its
     * `retry_of` naming the FAILED one), which keeps its status, error and attempts: a final status is
     * never overwritten. At most one retry per task: asked again, it answers the same retry.
     */
    async retry(taskId: string): Promise<RetriedTask> {
      const original = await read(taskId);
      const retriedAs = (task: Task): RetriedTask | undefined =>
        task.retried_as === null ? undefined : { ...accepted(task.retried_as, task.updated_at), message: 'Task already retried', retry_of: task.task_id };
      const earlier = retriedAs(original);
      if (earlier) return earlier;
      if (original.status !== 'FAILED') throw new TaskNotRetryableError(taskId, original.status);
      const { title, description, metadata, kind, payload, priority } = original;
      // A retry runs now, in the lane of the task it retries.
      const retry = { ...newTask({ title, description, metadata, kind, priority, ...(payload === undefined ? {} : { payload }) }, newId(), clock.now(), submitTraceId()), retry_of: taskId };
      const outcome = await store.createRetry(retry);
      if (!outcome.applied) {
        // Another retry of the same task won the race, or (never, FAILED being final) it moved on.
        const current = outcome.current;
        if (!current) throw new TaskNotFoundError(taskId);
        const concurrent = retriedAs(current);
        if (concurrent) return concurrent;
        throw new TaskNotRetryableError(taskId, current.status);
      }
      await enqueueStored(retry);
      logger.info('Task retried', { task_id: retry.task_id, retry_of: taskId });
      metrics.count('TasksSubmitted');
      return { ...accepted(retry.task_id, retry.created_at), retry_of: taskId };
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
