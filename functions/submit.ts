import { taskService } from '#lib/container';
import { apiHandler } from '#lib/http/api-handler';
import { SubmitTaskSchema } from '#lib/tasks/model';
import type { TaskService } from '#lib/tasks/service';

/** POST /api/tasks: stores a task, queues it, and answers 202 with where to follow it. */
export const createHandler = (tasks: Pick<TaskService, 'submit'>) =>
  apiHandler({ body: SubmitTaskSchema }, async ({ body }) => {
    const accepted = await tasks.submit(body);
    return { statusCode: 202, body: accepted, headers: { Location: `/api/tasks/${accepted.task_id}` } };
  });

export const handler = createHandler(taskService);
