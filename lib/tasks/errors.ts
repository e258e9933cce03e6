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
