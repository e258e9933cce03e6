import { taskService } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import { settledFor, taskReadResponse } from '#lib/http/conditional-get';
import { GetTaskHeadersSchema, GetTaskQuerySchema, TaskPathSchema } from '#lib/tasks/model';
import type { TaskService } from '#lib/tasks/service';

/** GET /api/tasks/{task_id}[?wait=N]: one task, with its ETag; `wait` holds the answer until it is final or changes. */
export const createHandler = (tasks: Pick<TaskService, 'get' | 'waitFor'>) =>
  apiHandler({ path: TaskPathSchema, query: GetTaskQuerySchema, headers: GetTaskHeadersSchema }, async ({ path, query, headers }) => {
    const ifNoneMatch = headers['if-none-match'];
    const task =
      query.wait === undefined
        ? await tasks.get(path.task_id)
        : await tasks.waitFor(path.task_id, settledFor(ifNoneMatch), query.wait * 1_000);
    return taskReadResponse(task, ifNoneMatch);
  });

export const handler = createHandler(taskService);
