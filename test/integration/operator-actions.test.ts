import { randomUUID } from 'node:crypto';
import { createDocumentClient } from '#lib/aws/clients';
import { systemClock } from '#lib/clock';
import { createBulkActions } from '#lib/tasks/bulk-actions';
import { TaskNotRetryableError } from '#lib/tasks/errors';
import { newTask, type Task } from '#lib/tasks/model';
import { createTaskService } from '#lib/tasks/service';
import { ownTaskStore } from '../support/own-table';
import { InMemoryTaskQueue, silentLogger } from '../support/fakes';
import { stackEnv } from '../support/stack-env';

const { tableName } = stackEnv();
const client = createDocumentClient();
afterAll(() => client.destroy());

describe('retry and bulk actions on DynamoDB Local', () => {
  // A table of its own: a redrive or a bulk cancel on the shared table would act on other suites' tasks.
  const own = ownTaskStore(client, tableName, 'operator-it');

  const failedTask = async (payload: Task['payload'] = { n: 1 }) => {
    const task = newTask({ title: 'job', description: 'd', metadata: {}, payload }, randomUUID(), new Date());
    await own.store.create(task);
    expect((await own.store.transition(task.task_id, { to: 'FAILED', at: new Date(), error: { code: 'PROCESSING_FAILED', message: 'boom' } })).applied).toBe(true);
    return task;
  };

  it('retries a FAILED task once, even when ten retries race, copying a payload kept in an item of its own', async () => {
    const queue = new InMemoryTaskQueue();
    const service = createTaskService({ store: own.store, queue, clock: systemClock, logger: silentLogger });
    const failed = await failedTask({ text: 'x'.repeat(5_000) });
    const retries = await Promise.all(Array.from({ length: 10 }, () => service.retry(failed.task_id)));
    expect(new Set(retries.map((retry) => retry.task_id)).size).toBe(1);
    expect(queue.messages).toHaveLength(1);
    const retry = (await own.store.get(retries[0]!.task_id))!;
    expect(retry).toMatchObject({ status: 'PENDING', retry_of: failed.task_id, payload: { text: 'x'.repeat(5_000) } });
    expect(await own.store.get(failed.task_id)).toMatchObject({ status: 'FAILED', error: { code: 'PROCESSING_FAILED' }, retried_as: retry.task_id });
  });

  it('refuses to retry a task that is not FAILED, through the transaction\'s condition', async () => {
    const service = createTaskService({ store: own.store, queue: new InMemoryTaskQueue(), clock: systemClock, logger: silentLogger });
    const pending = newTask({ title: 'pending', description: 'd', metadata: {} }, randomUUID(), new Date());
    await own.store.create(pending);
    await expect(service.retry(pending.task_id)).rejects.toBeInstanceOf(TaskNotRetryableError);
    // Straight at the store, as a retry that read the task FAILED a moment ago would write.
    expect(await own.store.createRetry({ ...newTask({ title: 'r', description: 'd', metadata: {} }, randomUUID(), new Date()), retry_of: pending.task_id })).toMatchObject({
      applied: false,
      current: { status: 'PENDING', retried_as: null },
    });
  });

  it('cancels PENDING tasks in bulk, page by page, to the last one', async () => {
    const service = createTaskService({ store: own.store, queue: new InMemoryTaskQueue(), clock: systemClock, logger: silentLogger });
    const bulk = createBulkActions(service);
    const ids: string[] = [];
    for (let n = 0; n < 25; n++) {
      const task = newTask({ title: `pending ${n}`, description: 'd', metadata: {} }, randomUUID(), new Date(Date.now() + n));
      await own.store.create(task);
      ids.push(task.task_id);
    }
    const canceled: string[] = [];
    let cursor: string | undefined;
    for (let calls = 0; calls < 10; calls++) {
      const result = await bulk.cancelPending({ status: 'PENDING', limit: 10, ...(cursor ? { cursor } : {}) });
      canceled.push(...result.canceled);
      if (!result.next_cursor) break;
      cursor = result.next_cursor;
    }
    // Every PENDING task of the table: these 25, and those the tests above left PENDING.
    expect(canceled).toEqual(expect.arrayContaining(ids));
    expect((await own.store.countByStatus()).PENDING).toBe(0);
  });
});
