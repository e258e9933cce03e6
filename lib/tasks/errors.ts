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
