import { taskQueue, taskStore } from '#lib/container';
import { apiHandler } from '#lib/handlers/api';
import type { TaskQueue, TaskStore } from '#lib/tasks/ports';

/** GET /api/health: 200 when the table and the queue both answer, else the contract's 503. */
export const createHandler = (store: Pick<TaskStore, 'ping'>, queue: Pick<TaskQueue, 'ping'>) =>
  apiHandler({}, async () => {
    await Promise.all([store.ping(), queue.ping()]);
    return { statusCode: 200, body: { status: 'ok' } };
  });

export const handler = createHandler(taskStore, taskQueue);
