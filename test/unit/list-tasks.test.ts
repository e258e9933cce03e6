import { createHandler } from '#functions/list-tasks';
import { newTask } from '#lib/tasks/model';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';
import { apiEvent, lambdaContext } from '../support/events';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function setup(count: number) {
  const store = new InMemoryTaskStore();
  const clock = new ManualClock();
  for (let n = 1; n <= count; n++) {
    clock.advance(1_000);
    await store.create(newTask({ title: `t${n}`, description: 'd', metadata: {} }, ID(n), clock.now()));
  }
  await store.transition(ID(2), { to: 'CANCELED', at: clock.now() });
  const list = createHandler(createTaskService({ store, queue: new InMemoryTaskQueue(), clock, logger: silentLogger }));
  const get = async (query: Record<string, string> = {}) => {
    const result = await list(apiEvent({ queryStringParameters: query }), lambdaContext());
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };
  return { get, store };
}

describe('GET /api/tasks', () => {
  it('lists newest first, 20 by default, with a cursor to the next page', async () => {
    const { get } = await setup(25);
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.body.tasks).toHaveLength(20);
    expect(first.body.tasks[0].task_id).toBe(ID(25));
    const second = await get({ cursor: first.body.next_cursor });
    expect(second.body.tasks.map((t: { task_id: string }) => t.task_id)).toEqual([5, 4, 3, 2, 1].map(ID));
    expect(second.body.next_cursor).toBeNull();
  });

  it('filters by status', async () => {
    const { get } = await setup(3);
    const { body } = await get({ status: 'CANCELED' });
    expect(body).toEqual({ tasks: [expect.objectContaining({ task_id: ID(2), status: 'CANCELED' })], next_cursor: null });
  });

  it('filters by kind, and by kind and status', async () => {
    const { get } = await setup(3);
    expect((await get({ kind: 'simulated' })).body.tasks).toHaveLength(3);
    expect((await get({ kind: 'checksum' })).body).toEqual({ tasks: [], next_cursor: null });
    expect((await get({ kind: 'simulated', status: 'CANCELED' })).body.tasks.map((task: { task_id: string }) => task.task_id)).toEqual([ID(2)]);
  });

  it.each([
    [{ kind: 'Checksum' }, 'query.kind'],
    [{ kind: '' }, 'query.kind'],
    [{ status: 'DONE' }, 'query.status'],
    [{ limit: '0' }, 'query.limit'],
    [{ limit: '101' }, 'query.limit'],
    [{ limit: 'ten' }, 'query.limit'],
    [{ limit: '2.5' }, 'query.limit'],
    [{ limit: '0x10' }, 'query.limit'],
    [{ limit: '1e1' }, 'query.limit'],
    [{ limit: ' 5' }, 'query.limit'],
    [{ limit: '' }, 'query.limit'],
    [{ cursor: 'not-a-cursor' }, 'query.cursor'],
  ])('answers 400 for %j', async (query, path) => {
    const { get } = await setup(1);
    const { status, body } = await get(query);
    expect(status).toBe(400);
    expect(body.error.code).toBe('VALIDATION_ERROR');
    expect(body.error.details[0].path).toBe(path);
  });

  it('answers 503 when DynamoDB is down', async () => {
    const { get, store } = await setup(1);
    store.down = true;
    expect((await get()).status).toBe(503);
  });
});
