import { randomUUID } from 'node:crypto';
import { TaskNotFoundError, TaskNotRetryableError } from '#lib/tasks/errors';
import { createBulkActions } from '#lib/tasks/bulk-actions';
import { newTask, type Task, type TaskStatus } from '#lib/tasks/model';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';

function setUp() {
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskQueue();
  const clock = new ManualClock();
  const service = createTaskService({ store, queue, clock, logger: silentLogger });
  const bulk = createBulkActions(service);
  /** A stored task with `status`, created `createdAtMs` after the clock's start, as it stands after that move. */
  const stored = async (status: TaskStatus, { createdAtMs = 0, payload = { n: 1 } as unknown } = {}): Promise<Task> => {
    const task = newTask({ title: 'job', description: 'd', metadata: { team: 'a' }, kind: 'simulated', payload: payload as Task['payload'] }, randomUUID(), new Date(clock.now().getTime() + createdAtMs));
    const moved: Task = status === 'FAILED' ? { ...task, status, attempts: 3, error: { code: 'PROCESSING_FAILED', message: 'boom' } } : { ...task, status };
    await store.create(moved);
    return moved;
  };
  const taskOf = (id: string) => store.items.get(id)!.task;
  return { store, queue, clock, service, bulk, stored, taskOf };
}

describe('retrying a FAILED task', () => {
  it('submits a new task with the same work, queued, and leaves the FAILED one FAILED, naming its retry', async () => {
    const { service, stored, taskOf, queue } = setUp();
    const failed = await stored('FAILED');
    const retry = await service.retry(failed.task_id);
    expect(retry).toMatchObject({ status: 'PENDING', retry_of: failed.task_id });
    expect(taskOf(retry.task_id)).toMatchObject({
      status: 'PENDING', title: 'job', description: 'd', metadata: { team: 'a' }, kind: 'simulated', payload: { n: 1 }, attempts: 0, retry_of: failed.task_id, retried_as: null,
    });
    expect(taskOf(failed.task_id)).toMatchObject({ status: 'FAILED', attempts: 3, error: { code: 'PROCESSING_FAILED' }, retried_as: retry.task_id });
    expect(queue.messages.map((message) => message.task_id)).toEqual([retry.task_id]);
  });

  it('retries a task once: asked again, or twice at once, it answers the same retry and queues nothing more', async () => {
    const { service, stored, store, queue } = setUp();
    const failed = await stored('FAILED');
    const [first, second] = await Promise.all([service.retry(failed.task_id), service.retry(failed.task_id)]);
    expect(second.task_id).toBe(first.task_id);
    expect((await service.retry(failed.task_id)).task_id).toBe(first.task_id);
    expect(store.items.size).toBe(2);
    expect(queue.messages).toHaveLength(1);
  });

  it.each(['PENDING', 'PROCESSING', 'COMPLETED', 'CANCELED'] as const)('refuses a %s task with its status, writing nothing', async (status) => {
    const { service, stored, store } = setUp();
    const task = await stored(status);
    await expect(service.retry(task.task_id)).rejects.toEqual(new TaskNotRetryableError(task.task_id, status));
    expect(store.items.size).toBe(1);
  });

  it('answers not found for an unknown task', async () => {
    await expect(setUp().service.retry(randomUUID())).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('marks the retry FAILED (ENQUEUE_FAILED) when it cannot be queued, so it never waits as PENDING', async () => {
    const { service, stored, taskOf, queue } = setUp();
    const failed = await stored('FAILED');
    queue.down = true;
    await expect(service.retry(failed.task_id)).rejects.toThrow();
    const retryId = taskOf(failed.task_id).retried_as!;
    expect(taskOf(retryId)).toMatchObject({ status: 'FAILED', error: { code: 'ENQUEUE_FAILED' } });
  });
});

describe('bulk actions', () => {
  it('redrives the FAILED tasks page by page, only those failed after the time given, and a repeat retries nothing twice', async () => {
    const { bulk, stored, store, clock } = setUp();
    const before = await stored('FAILED', { createdAtMs: 0 });
    clock.advance(60_000);
    const after = [await stored('FAILED', { createdAtMs: 1 }), await stored('FAILED', { createdAtMs: 2 })];
    await stored('COMPLETED', { createdAtMs: 3 });
    const failedAfter = new Date(clock.now().getTime() - 1).toISOString();
    // The FAILED tasks' updated_at is when they failed: the first failed before `failedAfter`.
    store.items.get(before.task_id)!.task.updated_at = new Date(clock.now().getTime() - 60_000).toISOString();
    for (const task of after) store.items.get(task.task_id)!.task.updated_at = clock.now().toISOString();

    const first = await bulk.redrive({ failed_after: failedAfter, limit: 2 });
    const second = await bulk.redrive({ failed_after: failedAfter, limit: 2, cursor: first.next_cursor! });
    expect(second.next_cursor).toBeNull();
    const redriven = [...first.redriven, ...second.redriven].map((r) => r.task_id).sort();
    expect(redriven).toEqual(after.map((task) => task.task_id).sort());
    expect(first.skipped + second.skipped).toBe(1);
    const sizeAfterOnePass = store.items.size;

    const again = await bulk.redrive({ failed_after: failedAfter, limit: 100 });
    expect(again).toMatchObject({ redriven: [], skipped: 3, next_cursor: null });
    expect(store.items.size).toBe(sizeAfterOnePass);
  });

  it('cancels the PENDING tasks created before the time given, and leaves the rest alone', async () => {
    const { bulk, stored, taskOf, clock } = setUp();
    const old = [await stored('PENDING', { createdAtMs: 0 }), await stored('PENDING', { createdAtMs: 1 })];
    const fresh = await stored('PENDING', { createdAtMs: 120_000 });
    const running = await stored('PROCESSING', { createdAtMs: 2 });
    const result = await bulk.cancelPending({ status: 'PENDING', created_before: new Date(clock.now().getTime() + 60_000).toISOString(), limit: 100 });
    expect(result.canceled.sort()).toEqual(old.map((task) => task.task_id).sort());
    expect(result.next_cursor).toBeNull();
    for (const task of old) expect(taskOf(task.task_id).status).toBe('CANCELED');
    expect(taskOf(fresh.task_id).status).toBe('PENDING');
    expect(taskOf(running.task_id).status).toBe('PROCESSING');
    expect((await bulk.cancelPending({ status: 'PENDING', created_before: new Date(clock.now().getTime() + 60_000).toISOString(), limit: 100 })).canceled).toEqual([]);
  });
});
