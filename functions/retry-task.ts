import { taskService } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import type { TaskService } from '#lib/tasks/service';
import { TaskPathSchema } from '#lib/tasks/model';

/** POST /api/tasks/{task_id}/retry: retries a FAILED task as a new one (at most once; again, the same one). */
export const createHandler = (tasks: Pick<TaskService, 'retry'>) =>
  apiHandler({ path: TaskPathSchema }, async ({ path }) => {
    const retry = await tasks.retry(path.task_id);
    return { statusCode: 202, body: retry, headers: { Location: `/api/tasks/${retry.task_id}` } };
  });

export const handler = createHandler(taskService);
