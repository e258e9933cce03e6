import type { Clock } from '#lib/clock';
import { withReserve } from '#lib/deadline';
import type { AppLogger } from '#lib/logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { BATCH_NOT_ACCEPTED, messageOf, TaskMessageSchema, type BatchRef, type BatchVerdict, type Task, type TaskMessage, type TaskPriority, type TaskProgress, type TaskStatus } from './model';
import { noMetrics, type TaskMetrics, type TaskQueue, type TaskStore } from './ports';
import { CancellationWatcher, TaskEndedElsewhereError } from './cancellation-watcher';
import { BatchPendingError, PoisonMessageError, RetryLaterError, TaskLeasedError } from './errors';
import { isFinal } from './transitions';
import { isDue, MAX_QUEUE_DELAY_SECONDS } from './schedule';
import pLimit, { type LimitFunction } from 'p-limit';
import { runAttempt } from './attempt';
import { PermanentTaskError, type AnyTaskKind, type KindRegistry } from './kind';
import { ProgressReporter } from './progress';

/** A received queue message, as plain data: the domain never sees an SQS event. */
export interface ReceivedMessage {
  body: string;
  receiptHandle: string;
  /** 1 on the first delivery. */
  receiveCount: number;
  /** When the message was first sent: the start of its queue wait. */
  sentAt?: Date;
}

/** How one message ended when it is acknowledged (deleted from the queue). */
/** `deferred`: the message came before the task's run_at; it was sent again with the wait as its delay (or left to the dispatcher). */
export type ProcessOutcome = 'completed' | 'canceled' | 'already-final' | 'superseded' | 'failed' | 'deferred';

export interface ProcessingDeps {
  store: TaskStore;
  queue: TaskQueue;
  clock: Clock;
  logger: AppLogger;
  /** What runs each task, by its kind. */
  kinds: KindRegistry;
  leaseSeconds: number;
  cancelPollMs: number;
  retryBaseDelaySeconds: number;
  maxReceiveCount: number;
  /** At most one progress write per task per this many milliseconds. */
  progressIntervalMs?: number;
  metrics?: TaskMetrics;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 2_000;

/** The code a failed attempt's error gives the task when it is the last: its own `code` (TIMED_OUT, ...) if it has one. */
function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'PROCESSING_FAILED';
}

const MAX_RETRY_DELAY_SECONDS = 900;
/** Past its `commit_by`, a batch with no verdict is aborted by the first processor to look: its submit can no longer commit it. */
export const BATCH_COMMIT_MARGIN_MS = 10_000;
/** How often a processor looks again for the verdict of a batch being committed (the commit lands milliseconds after the send). */
const BATCH_POLL_MS = 200;

/**
 * Time a record's own calls leave of the invocation's budget: what a failed attempt needs to release
 * its task and set its retry delay. The batch handler stops the work this much before its deadline too.
 */
export const CLEANUP_RESERVE_MS = 2_500;

/** The delay before the next delivery of a failed message: doubled per receive, capped, and zero on the last receive so it reaches the dead-letter queue at once. */
export function retryDelaySeconds(receiveCount: number, baseSeconds: number, maxReceiveCount: number): number {
  if (receiveCount >= maxReceiveCount) return 0;
  return Math.min(baseSeconds * 2 ** (receiveCount - 1), MAX_RETRY_DELAY_SECONDS);
}

/** The processor's use cases: work one queued task, and fail one that ran out of attempts. */
export function createTaskProcessor(deps: ProcessingDeps) {
  const { store, queue, clock, logger, metrics = noMetrics } = deps;
  // A kind cannot have more attempts than the queue delivers a message: the dead-letter queue would end it first.
  for (const kind of deps.kinds.kinds) {
    if (kind.attempts !== undefined && kind.attempts > deps.maxReceiveCount) {
      throw new Error(`Task kind ${kind.name} asks for ${kind.attempts} attempts; the queue delivers a message at most ${deps.maxReceiveCount} times (MAX_RECEIVE_COUNT)`);
    }
  }

  function parseMessage(body: string): TaskMessage {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new PoisonMessageError('Message body is not JSON');
    }
    const parsed = TaskMessageSchema.safeParse(json);
    if (!parsed.success) throw new PoisonMessageError('Message body is not a task message');
    return parsed.data;
  }

  /**
   * Verdicts never change: one read per batch per container, shared by the tasks of the batch that
   * wait for it together (and their wait for a commit). Only a verdict is kept; a wait that ran out
   * of time or failed is begun afresh by the next task.
   */
  const verdicts = new Map<string, Promise<BatchVerdict | undefined>>();

  /**
   * The verdict of a task's batch, waiting the moment a commit takes (the messages are sent before
   * it); a batch still without one after its commit_by is aborted here.
   */
  async function verdictOf(batch: BatchRef, taskId: string, invocation?: AbortSignal): Promise<BatchVerdict> {
    const abortAfter = Date.parse(batch.commit_by) + BATCH_COMMIT_MARGIN_MS;
    let lookup = verdicts.get(batch.id);
    if (!lookup) {
      const begun = awaitVerdict(batch.id, abortAfter, invocation);
      const forget = () => verdicts.get(batch.id) === begun && verdicts.delete(batch.id);
      begun.then((verdict) => {
        if (!verdict) forget();
      }, forget);
      verdicts.set(batch.id, (lookup = begun));
    }
    const verdict = await lookup;
    if (verdict) return verdict;
    throw new BatchPendingError(taskId, Math.max(1, Math.ceil((abortAfter - clock.now().getTime()) / 1000)));
  }

  /** The batch's verdict, or undefined when the invocation ran out of time waiting for one. */
  async function awaitVerdict(batchId: string, abortAfter: number, invocation?: AbortSignal): Promise<BatchVerdict | undefined> {
    for (;;) {
      let verdict = await store.batchVerdict(batchId);
      if (!verdict && clock.now().getTime() > abortAfter) verdict = await store.settleBatch(batchId, 'ABORTED');
      if (verdict) return verdict;
      if (invocation?.aborted) return undefined;
      await sleep(BATCH_POLL_MS, undefined, invocation ? { signal: invocation } : {}).catch(() => undefined);
    }
  }

  const cancellations = new CancellationWatcher(store, deps.cancelPollMs, logger);
  const progressIntervalMs = deps.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;

  /** One queue of turns per kind with a concurrency, shared by the records of the invocation (an instance runs one at a time). */
  const turns = new Map<string, LimitFunction>();
  const inTurn = <T>(kind: AnyTaskKind | undefined, fn: () => Promise<T>): Promise<T> => {
    if (kind?.concurrency === undefined) return fn();
    let limit = turns.get(kind.name);
    if (!limit) turns.set(kind.name, (limit = pLimit(kind.concurrency)));
    return limit(fn);
  };

  /** Runs the kind's work, stopping it as soon as the watcher sees the task final elsewhere, at the kind's timeout, or when the invocation runs out of time. */
  async function workUnlessEnded(
    kind: AnyTaskKind,
    task: Task,
    invocation?: AbortSignal,
  ): Promise<{ endedAs: TaskStatus } | { endedAs?: undefined; result: unknown; progress?: TaskProgress }> {
    const watch = cancellations.watch(task.task_id);
    const signal = invocation ? AbortSignal.any([watch.signal, invocation]) : watch.signal;
    const progress = new ProgressReporter(
      (reported) => store.recordProgress(task.task_id, task.attempts, reported),
      progressIntervalMs,
      clock,
      logger,
    );
    try {
      const result = await runAttempt(kind, task, { signal, logger, progress });
      // The last report may not have been written yet (writes are coalesced): the completion records it.
      return { result, ...(progress.lastReported ? { progress: progress.lastReported } : {}) };
    } catch (error) {
      if (watch.signal.reason instanceof TaskEndedElsewhereError) return { endedAs: watch.signal.reason.status };
      throw error;
    } finally {
      watch.stop();
    }
  }

  /** The attempt a message's processing claimed, if it got that far: what a failure must release, and the kind it ran. */
  interface Attempt {
    claimed?: number;
    kind?: AnyTaskKind;
  }

  async function processOnce(taskId: string, batch: BatchRef | undefined, sentAt: Date | undefined, attempt: Attempt, invocation?: AbortSignal): Promise<ProcessOutcome> {
    // Out of time already: leave the task unclaimed, so its retry does not wait for a lease to run out.
    invocation?.throwIfAborted();
    if (batch && (await verdictOf(batch, taskId, invocation)) === 'ABORTED') return (await failUnqueued(taskId)) ? 'failed' : 'already-final';
    const now = clock.now();
    const claim = await store.transition(taskId, {
      to: 'PROCESSING',
      at: now,
      leaseExpiresAt: new Date(now.getTime() + deps.leaseSeconds * 1000),
      maxAttempts: deps.maxReceiveCount,
    });
    if (!claim.applied) {
      if (!claim.current) throw new PoisonMessageError(`Task ${taskId} does not exist`);
      if (isFinal(claim.current.status)) return 'already-final';
      if (claim.current.status === 'PENDING' && !isDue(claim.current, now)) return deferUntilDue(claim.current, batch, now);
      const leased = claim.leaseExpiresAt !== undefined && claim.leaseExpiresAt > now;
      // Its attempts are spent (this is a duplicate or requeued message): what the dead letter would do, now.
      if (claim.current.attempts >= deps.maxReceiveCount && !leased) return (await failSpent(taskId, now)) ? 'failed' : 'already-final';
      const leaseLeftMs = (claim.leaseExpiresAt?.getTime() ?? now.getTime()) - now.getTime();
      throw new TaskLeasedError(taskId, Math.max(1, Math.ceil(leaseLeftMs / 1000)));
    }
    const task = claim.task;
    attempt.claimed = task.attempts;
    logger.info('Task started', { task_id: taskId, kind: task.kind, attempt: task.attempts });
    metrics.count('TasksStarted');
    if (sentAt) metrics.duration('QueueWait', Math.max(0, now.getTime() - sentAt.getTime()));
    const kind = deps.kinds.get(task.kind);
    if (!kind) throw new PermanentTaskError('UNKNOWN_KIND', `This deployment runs no task kind named ${task.kind}`);
    attempt.kind = kind;

    const work = await workUnlessEnded(kind, task, invocation);
    if (work.endedAs) {
      logger.info('Task work stopped: the task is final', { task_id: taskId, status: work.endedAs });
      return work.endedAs === 'CANCELED' ? 'canceled' : 'already-final';
    }
    const completion = await store.transition(taskId, {
      to: 'COMPLETED',
      at: clock.now(),
      attempt: task.attempts,
      result: work.result,
      ...(work.progress ? { progress: work.progress } : {}),
    });
    if (completion.applied) {
      logger.info('Task completed', { task_id: taskId, attempt: task.attempts });
      metrics.count('TasksCompleted');
      metrics.duration('WorkTime', clock.now().getTime() - now.getTime());
      return 'completed';
    }
    // The condition refused: a cancel won the race, or a newer attempt owns the task now.
    const status = completion.current?.status;
    logger.info('Task completion refused', { task_id: taskId, status });
    return status === 'CANCELED' ? 'canceled' : 'superseded';
  }

  /**
   * A message that came before its task's run_at (a duplicate, a requeue, a clock ahead of SQS's)
   * goes back as a new message delayed by the rest of the wait, so it costs the task no receive. A
   * task due later than SQS can delay is held: the dispatcher will queue it, and this copy is dropped.
   */
  async function deferUntilDue(task: Task, batch: BatchRef | undefined, now: Date): Promise<ProcessOutcome> {
    const waitSeconds = (Date.parse(task.run_at!) - now.getTime()) / 1000;
    if (waitSeconds <= MAX_QUEUE_DELAY_SECONDS) await queue.enqueue(messageOf(task, batch));
    logger.info('Task not due yet: its message comes back when it is', { task_id: task.task_id, run_at: task.run_at });
    return 'deferred';
  }

  /** Marks FAILED a task of an aborted batch (its submit was answered 503, or never answered); true when this call failed it. */
  async function failUnqueued(taskId: string): Promise<boolean> {
    const outcome = await store.transition(taskId, {
      to: 'FAILED',
      at: clock.now(),
      error: BATCH_NOT_ACCEPTED,
    });
    if (outcome.applied) logger.info('Task of an aborted batch failed', { task_id: taskId });
    return outcome.applied;
  }

  /** Marks FAILED a task whose attempts are all spent, unless a live worker holds it; true when this call failed it. */
  async function failSpent(taskId: string, now: Date): Promise<boolean> {
    // One read, for dead letters only: the final error names what the last attempt died of.
    const last = (await store.get(taskId))?.last_error;
    const outcome = await store.transition(taskId, {
      to: 'FAILED',
      at: now,
      error: {
        code: 'PROCESSING_FAILED',
        message: `Processing failed after ${deps.maxReceiveCount} attempts${last ? `; the last: ${last.code}: ${last.message}` : ''}`.slice(0, 1_000),
      },
      // A duplicate message can reach the dead-letter queue while another delivery's attempt still runs.
      unlessLeased: true,
    });
    if (outcome.applied) {
      logger.warn('Task failed', { task_id: taskId });
      metrics.count('TasksFailed');
      return true;
    }
    const current = outcome.current;
    if (current && !isFinal(current.status)) {
      // Held by a live worker: try again once its lease has run out, by when that attempt has ended.
      const leaseLeftMs = (outcome.leaseExpiresAt?.getTime() ?? now.getTime()) - now.getTime();
      throw new TaskLeasedError(taskId, Math.max(1, Math.ceil(leaseLeftMs / 1000)));
    }
    return false;
  }

  /**
   * Ends FAILED, now, a task whose attempt failed for good: a permanent error, or the last of its
   * kind's attempts. Only the attempt's holder may (a newer attempt or a cancel wins); true when it did.
   */
  async function failAttempt(taskId: string, claimed: number, kind: AnyTaskKind | undefined, error: unknown): Promise<boolean> {
    const permanent = error instanceof PermanentTaskError;
    const lastAttempt = kind?.attempts !== undefined && claimed >= kind.attempts;
    if (!permanent && !lastAttempt) return false;
    const message = error instanceof Error ? error.message : String(error);
    const outcome = await store.transition(taskId, {
      to: 'FAILED',
      at: clock.now(),
      attempt: claimed,
      error: { code: errorCodeOf(error), message: permanent ? message : `Attempt ${claimed} of ${kind?.attempts}: ${message}` },
    });
    if (outcome.applied) {
      logger.warn('Task failed', { task_id: taskId, attempt: claimed, error });
      metrics.count('TasksFailed');
    }
    return true;
  }

  /** A failed attempt gives its task back at once, so its retry need not wait its lease out, and says why it failed (`last_error`). */
  async function release(taskId: string, attempt: number, error: unknown): Promise<void> {
    await store
      .releaseLease(taskId, attempt, clock.now(), { code: errorCodeOf(error), message: error instanceof Error ? error.message : String(error) })
      .catch((error: unknown) => logger.warn('Could not release a failed attempt; its lease will run out', { task_id: taskId, error }));
  }

  return {
    /**
     * Processes one message. Resolves when the message may be deleted; throws when it must
     * come back, after setting its backoff delay.
     */
    async process(message: ReceivedMessage, invocation?: AbortSignal): Promise<ProcessOutcome> {
      let taskId: string | undefined;
      let lane: TaskPriority | undefined;
      const attempt: Attempt = {};
      try {
        const parsed = parseMessage(message.body);
        taskId = parsed.task_id;
        lane = parsed.priority;
        // A kind with a concurrency waits for a turn before it claims its task: the task stays PENDING meanwhile.
        attempt.kind = parsed.kind === undefined ? undefined : deps.kinds.get(parsed.kind);
        return await inTurn(attempt.kind, () =>
          withReserve(CLEANUP_RESERVE_MS, () => processOnce(parsed.task_id, parsed.batch, message.sentAt, attempt, invocation)),
        );
      } catch (error) {
        if (taskId !== undefined && attempt.claimed !== undefined) {
          const failed = await failAttempt(taskId, attempt.claimed, attempt.kind, error).catch((failError: unknown) => {
            logger.warn('Could not mark the task FAILED; the message will be retried', { task_id: taskId, error: failError });
            return false;
          });
          if (failed) return 'failed';
          await release(taskId, attempt.claimed, error);
        }
        const baseDelay = attempt.kind?.retryBaseDelaySeconds ?? deps.retryBaseDelaySeconds;
        const backoff = retryDelaySeconds(message.receiveCount, baseDelay, deps.maxReceiveCount);
        const delay = error instanceof RetryLaterError ? Math.max(backoff, error.retryAfterSeconds) : backoff;
        const retry = { task_id: taskId, receive_count: message.receiveCount, retry_in_seconds: delay };
        // Expected conditions (a duplicate delivery, a manual invoke, a batch being committed): no stack trace for them.
        if (error instanceof RetryLaterError) logger.info(`${error.message}; the message will come back`, retry);
        else logger.warn('Task processing failed; the message will be retried', { ...retry, error });
        await queue
          .retryAfter(message.receiptHandle, delay, lane)
          .catch((visibilityError: unknown) =>
            logger.warn('Could not set the retry delay; the queue default applies', { error: visibilityError }),
          );
        throw error;
      }
    },

    /** Marks FAILED the task of a message that reached the dead-letter queue; final tasks stay as they are. */
    async failDeadLetter(message: ReceivedMessage): Promise<void> {
      let taskId: string;
      try {
        taskId = parseMessage(message.body).task_id;
      } catch (error) {
        logger.error('Dead letter names no task; dropped', { body: message.body.slice(0, 1024), error });
        return;
      }
      if (await failSpent(taskId, clock.now())) return;
      logger.info('Dead letter for a task already final or unknown', { task_id: taskId });
    },
  };
}

export type TaskProcessor = ReturnType<typeof createTaskProcessor>;
