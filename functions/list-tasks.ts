import { taskService } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import { ListTasksQuerySchema } from '#lib/tasks/model';
import type { TaskService } from '#lib/tasks/service';

/** GET /api/tasks: tasks newest first, optionally of one status, in pages joined by an opaque cursor. */
export const createHandler = (tasks: Pick<TaskService, 'list'>) =>
  apiHandler({ query: ListTasksQuerySchema }, async ({ query }) => {
    const page = await tasks.list(query);
    return { statusCode: 200, body: { tasks: page.tasks, next_cursor: page.nextCursor } };
  });

export const handler = createHandler(taskService);
