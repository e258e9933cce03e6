import { taskService } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import { TaskPathSchema } from '#lib/tasks/model';
import type { TaskService } from '#lib/tasks/service';

/** GET /api/tasks/{task_id}: one task as it stands. */
export const createHandler = (tasks: Pick<TaskService, 'get'>) =>
  apiHandler({ path: TaskPathSchema }, async ({ path }) => ({ statusCode: 200, body: await tasks.get(path.task_id) }));

export const handler = createHandler(taskService);
