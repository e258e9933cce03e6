import { taskService } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import type { TaskService } from '#lib/tasks/service';
import { TaskPathSchema } from '#lib/tasks/model';

/** POST /api/tasks/{task_id}/cancel: cancels a PENDING or PROCESSING task; a running one stops its work. */
export const createHandler = (tasks: Pick<TaskService, 'cancel'>) =>
  apiHandler(
    { path: TaskPathSchema },
    async ({ path }) => ({ statusCode: 200, body: await tasks.cancel(path.task_id) }),
  );

export const handler = createHandler(taskService);
