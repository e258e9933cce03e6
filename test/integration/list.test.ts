import { randomUUID } from 'node:crypto';
import { createDocumentClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask, type Task } from '#lib/tasks/model';
import { InvalidCursorError } from '#lib/tasks/errors';
import { stackEnv } from '../support/stack-env';

const client = createDocumentClient();
const store = new DynamoDbTaskStore(client, stackEnv().tableName);
afterAll(() => client.destroy());

describe('listing tasks from the sharded status index (DynamoDB Local)', () => {
  // Created in the future, so they are the newest tasks of the table whatever other suites add.
  const base = Date.UTC(2099, 0, 1);
  const ids: string[] = [];

  beforeAll(async () => {
    for (let n = 0; n < 45; n++) {
      const id = randomUUID();
      ids.push(id);
      await store.create(newTask({ title: `list ${n}`, description: 'd', metadata: {} }, id, new Date(base + n * 1_000)));
    }
    for (const id of ids.slice(0, 10)) await store.transition(id, { to: 'CANCELED', at: new Date(base + 100_000) });
  });

  async function walk(status: Task['status'] | undefined, limit: number) {
    const seen: Task[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10_000; pages++) {
      const page = await store.list({ ...(status ? { status } : {}), limit, ...(cursor ? { cursor } : {}) });
      seen.push(...page.tasks);
      if (!page.nextCursor) return seen;
      cursor = page.nextCursor;
    }
    throw new Error('the walk did not end');
  }

  it('walks every task of a status exactly once, newest first', async () => {
    const pending = await walk('PENDING', 7);
    const ours = pending.filter((t) => ids.includes(t.task_id)).map((t) => t.task_id);
    expect(ours).toEqual(ids.slice(10).reverse());
    const canceled = (await walk('CANCELED', 4)).filter((t) => ids.includes(t.task_id)).map((t) => t.task_id);
    expect(canceled).toEqual(ids.slice(0, 10).reverse());
  });

  it('walks every task of every status, newest first, on the first pages', async () => {
    const page = await store.list({ limit: 45 });
    expect(page.tasks.map((t) => t.task_id)).toEqual([...ids].reverse());
    const order = page.tasks.map((t) => t.created_at);
    expect(order).toEqual([...order].sort().reverse());
  });

  it('refuses a cursor from another filter', async () => {
    const { nextCursor } = await store.list({ status: 'PENDING', limit: 1 });
    await expect(store.list({ status: 'FAILED', limit: 1, cursor: nextCursor! })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});
