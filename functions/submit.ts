import { callbackPolicy, taskKinds, taskService } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import { SubmitHeadersSchema, submitTaskSchema } from '#lib/tasks/model';
import type { KindRegistry } from '#lib/tasks/kind';
import type { CallbackPolicy } from '#lib/tasks/callback-policy';
import type { TaskService } from '#lib/tasks/service';

/** POST /api/tasks: stores a task, queues it, and answers 202 with where to follow it; an Idempotency-Key makes retries safe. */
export const createHandler = (tasks: Pick<TaskService, 'submit'>, kinds: KindRegistry = taskKinds, callbacks: CallbackPolicy = callbackPolicy) =>
  apiHandler({ body: submitTaskSchema(kinds, callbacks), headers: SubmitHeadersSchema }, async ({ body, headers }) => {
    const accepted = await tasks.submit(body, headers['idempotency-key']);
    return { statusCode: 202, body: accepted, headers: { Location: `/api/tasks/${accepted.task_id}` } };
  });

export const handler = createHandler(taskService);
