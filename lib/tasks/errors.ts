import { ServiceError } from '#lib/errors';
import type { TaskStatus } from './model';

export class TaskNotFoundError extends ServiceError {
  constructor(readonly taskId: string) {
    super(`Task ${taskId} does not exist`);
  }
}

export class TaskNotCancelableError extends ServiceError {
  constructor(
    readonly taskId: string,
    readonly status: TaskStatus,
  ) {
    super(`Task ${taskId} is ${status} and can no longer be canceled`);
  }
}

/** Only a FAILED task can be retried; a retry never overwrites a task that is still running or done. */
export class TaskNotRetryableError extends ServiceError {
  constructor(
    readonly taskId: string,
    readonly status: TaskStatus,
  ) {
    super(`Task ${taskId} is ${status}: only a FAILED task can be retried`);
  }
}

/** A list cursor that this API did not issue, or that was issued for another filter. */
export class InvalidCursorError extends ServiceError {
  constructor(readonly reason: string) {
    super(`cursor ${reason}`);
  }
}

/** The idempotency key was used, within its window, for a request with another body. */
export class IdempotencyKeyReusedError extends ServiceError {
  constructor() {
    super('This Idempotency-Key was already used with a different request body');
  }
}

// The processor's: why a message is not settled now.

/** The message cannot name a task: retrying will not help, so it only waits for the dead-letter queue. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

/** The message cannot be settled yet, for an expected reason: it comes back after `retryAfterSeconds`. */
export class RetryLaterError extends Error {
  constructor(
    readonly taskId: string,
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/** Another worker holds a live lease on the task; try again once that lease has run out. */
export class TaskLeasedError extends RetryLaterError {
  override readonly name = 'TaskLeasedError';
  constructor(taskId: string, retryAfterSeconds: number) {
    super(taskId, retryAfterSeconds, `Task ${taskId} is being processed by another worker`);
  }
}

/** The task's batch has no verdict yet and this invocation could not wait for it. */
export class BatchPendingError extends RetryLaterError {
  override readonly name = 'BatchPendingError';
  constructor(taskId: string, retryAfterSeconds: number) {
    super(taskId, retryAfterSeconds, `The batch of task ${taskId} is not committed yet`);
  }
}
