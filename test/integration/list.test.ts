import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask, type Task, type TaskStatus, type TaskSummary } from '#lib/tasks/model';
import { InvalidCursorError } from '#lib/tasks/errors';
import { stackEnv } from '../support/stack-env';

const client = createDocumentClient();
const { tableName } = stackEnv();
const store = new DynamoDbTaskStore(client, tableName);
const created: string[] = [];

// Tasks created in the future stay the newest of the table: other suites (the dashboard's "newest
// 20") must not find them there.
afterAll(async () => {
  for (let start = 0; start < created.length; start += 25) {
    const keys = created.slice(start, start + 25).map((task_id) => ({ DeleteRequest: { Key: { task_id } } }));
    await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: keys } }));
  }
  client.destroy();
});

/**
 * The contract's Listing guarantee on DynamoDB Local: the tasks of each case are created in the
 * future, a year after the previous case's, so they are the newest of the table whatever other
 * suites add, and a walk can stop once it is past them. Status moves happen between pages.
 */
describe('list walks (DynamoDB Local)', () => {
  let year = 2100;

  /** One batch of 30 (they share created_at: the ties) and 5 single submits, all PENDING. */
  async function submitThirtyFive(): Promise<{ ids: string[]; since: string }> {
    const base = Date.UTC(year++, 0, 1);
    const batch = Array.from({ length: 30 }, () => newTask({ title: 'batch', description: 'd', metadata: {}, payload: 'x'.repeat(100) }, randomUUID(), new Date(base)));
    await store.createMany(batch);
    const singles: Task[] = [];
    for (let n = 1; n <= 5; n++) {
      const single = newTask({ title: `single ${n}`, description: 'd', metadata: {} }, randomUUID(), new Date(base + n * 1_000));
      await store.create(single);
      singles.push(single);
    }
    const ids = [...batch, ...singles].map((t) => t.task_id);
    created.push(...ids);
    return { ids, since: new Date(base).toISOString() };
  }

  /** Walks pages of `limit` until past `since`, calling `between` after each page. */
  async function walk(options: { status?: TaskStatus; kind?: string; limit: number; since: string; between?: (page: number) => Promise<void> }) {
    const seen: TaskSummary[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1_000; page++) {
      const result = await store.list({
        ...(options.status ? { status: options.status } : {}),
        ...(options.kind ? { kind: options.kind } : {}),
        limit: options.limit,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...result.tasks);
      if (!result.nextCursor || result.tasks.some((t) => t.created_at < options.since)) return seen.filter((t) => t.created_at >= options.since);
      cursor = result.nextCursor;
      await options.between?.(page);
    }
    throw new Error('the walk did not end');
  }

  const claim = (id: string) => store.transition(id, { to: 'PROCESSING', at: new Date(), leaseExpiresAt: new Date(Date.now() + 60_000), maxAttempts: 3 });
  const complete = (id: string) => store.transition(id, { to: 'COMPLETED', at: new Date(), attempt: 1, result: { payload_bytes: 1 } });
  const cancel = (id: string) => store.transition(id, { to: 'CANCELED', at: new Date() });

  const expectEachOnce = (seen: TaskSummary[], ids: string[]) => {
    const listed = seen.map((t) => t.task_id);
    expect(new Set(listed).size).toBe(listed.length);
    // A table reused across runs (LocalStack) may hold an earlier run's tasks of the same year.
    expect(listed.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    const order = seen.map((t) => `${t.created_at}#${t.task_id}`);
    expect(order).toEqual([...order].sort().reverse());
  };

  it('lists each of 35 tasks exactly once when nothing moves, ties of one batch included', async () => {
    const { ids, since } = await submitThirtyFive();
    expectEachOnce(await walk({ limit: 6, since }), ids);
  });

  it('lists each exactly once while they are claimed page by page', async () => {
    const { ids, since } = await submitThirtyFive();
    const order = [...ids].reverse();
    const seen = await walk({ limit: 6, since, between: async (page) => void (await Promise.all(order.slice(page * 7, page * 7 + 7).map(claim))) });
    expectEachOnce(seen, ids);
  });

  it('lists each exactly once while they complete or are canceled page by page', async () => {
    const { ids, since } = await submitThirtyFive();
    await Promise.all(ids.map(claim));
    const seen = await walk({
      limit: 6,
      since,
      between: async (page) => {
        await Promise.all(ids.slice(page * 6, page * 6 + 5).map(complete));
        await Promise.all(ids.slice(page * 6 + 5, page * 6 + 6).map(cancel));
      },
    });
    expectEachOnce(seen, ids);
  });

  it('with a status filter, lists exactly once every task that kept the status and never one twice', async () => {
    const { ids, since } = await submitThirtyFive();
    const moved: string[] = [];
    const seen = await walk({
      status: 'PENDING',
      limit: 4,
      since,
      between: async (page) => {
        // Claim tasks on both sides of the walk's position: one it has listed, one ahead of it.
        const pair = [ids[page * 3], ids[34 - page * 3]].filter((id): id is string => id !== undefined && !moved.includes(id));
        moved.push(...pair);
        await Promise.all(pair.map(claim));
      },
    });
    const listed = seen.map((t) => t.task_id);
    expect(new Set(listed).size).toBe(listed.length);
    for (const id of ids.filter((id) => !moved.includes(id))) expect(listed).toContain(id);
    expect(seen.every((t) => t.status === 'PENDING')).toBe(true);
  });

  it('with a kind filter, lists exactly once every task of that kind, whatever their moves, and only those', async () => {
    const base = Date.UTC(year++, 0, 1);
    const ofKind = (kind: string, n: number) => Array.from({ length: n }, (_, i) => newTask({ title: kind, description: 'd', metadata: {}, kind }, randomUUID(), new Date(base + i * 1_000)));
    const checksums = ofKind('checksum', 12);
    const others = ofKind('simulated', 9);
    await store.createMany([...checksums, ...others]);
    created.push(...[...checksums, ...others].map((t) => t.task_id));
    const since = new Date(base).toISOString();
    const ids = checksums.map((t) => t.task_id);
    // A move per page: a kind's partition never changes, so the walk is exact.
    const seen = await walk({ kind: 'checksum', limit: 4, since, between: async (page) => void (await claim(ids[page]!)) });
    expectEachOnce(seen, ids);
    expect(seen.every((t) => t.kind === 'checksum')).toBe(true);

    // With a status filter too: the kind's tasks of that status, pages possibly short.
    // The walk above claimed the first few: a second claim is refused while their lease runs, so each is at attempt 1.
    await Promise.all(ids.slice(0, 6).map(claim));
    await Promise.all(ids.slice(0, 6).map(complete));
    const completed = await walk({ kind: 'checksum', status: 'COMPLETED', limit: 5, since });
    expect(completed.map((t) => t.task_id).sort()).toEqual(ids.slice(0, 6).sort());
  });

  it('lists summaries: no payload and no result', async () => {
    const { since } = await submitThirtyFive();
    const [first] = await walk({ limit: 1, since });
    expect(first).not.toHaveProperty('payload');
    expect(first).not.toHaveProperty('result');
    expect(first).toMatchObject({ status: 'PENDING', attempts: 0, error: null });
  });

  it('refuses a cursor from another filter', async () => {
    const { nextCursor } = await store.list({ status: 'PENDING', limit: 1 });
    await expect(store.list({ status: 'FAILED', limit: 1, cursor: nextCursor! })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.list({ status: 'PENDING', kind: 'checksum', limit: 1, cursor: nextCursor! })).rejects.toBeInstanceOf(InvalidCursorError);
  });
});
