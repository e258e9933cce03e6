import { callbackPolicy, taskKinds, taskService } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import { submitBatchSchema } from '#lib/tasks/model';
import type { KindRegistry } from '#lib/tasks/kind';
import type { CallbackPolicy } from '#lib/tasks/callback-policy';
import type { TaskService } from '#lib/tasks/service';

/** POST /api/tasks/batch: up to 100 tasks, validated all or nothing, stored and queued with batched calls. */
export const createHandler = (tasks: Pick<TaskService, 'submitBatch'>, kinds: KindRegistry = taskKinds, callbacks: CallbackPolicy = callbackPolicy) =>
  apiHandler(
    { body: submitBatchSchema(kinds, callbacks) },
    async ({ body }) => ({ statusCode: 202, body: await tasks.submitBatch(body.tasks) }),
  );

export const handler = createHandler(taskService);
