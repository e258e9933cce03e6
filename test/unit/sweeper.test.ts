import { createHandler } from '#functions/requeue-stale-tasks';
import { newTask } from '#lib/tasks/model';
import { createStaleTaskSweeper } from '#lib/tasks/sweeper';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';
import { lambdaContext } from '../support/events';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('the stale task sweeper', () => {
  async function setup() {
    const store = new InMemoryTaskStore();
    const queue = new InMemoryTaskQueue();
    const clock = new ManualClock();
    const input = { title: 't', description: 'd', metadata: {} };
    // Stored ten minutes ago, then never enqueued: the submit died between its write and its send.
    await store.create(newTask(input, ID(1), clock.now()));
    await store.create(newTask(input, ID(2), clock.now()));
    await store.transition(ID(2), { to: 'CANCELED', at: clock.now() });
    // Claimed by a worker that died, and its message lost.
    await store.create(newTask(input, ID(4), clock.now()));
    await store.transition(ID(4), { to: 'PROCESSING', at: clock.now(), leaseExpiresAt: clock.now(), maxAttempts: 3 });
    clock.advance(10 * 60_000);
    await store.create(newTask(input, ID(3), clock.now()));
    const sweep = createStaleTaskSweeper({ store, queue, clock, logger: silentLogger, staleAfterSeconds: 300, limit: 100 });
    return { store, queue, sweep };
  }

  it('requeues only unfinished tasks older than the threshold', async () => {
    const { queue, sweep } = await setup();
    await expect(createHandler(sweep)({}, lambdaContext())).resolves.toEqual({ requeued: 2 });
    expect(queue.messages).toEqual([{ task_id: ID(1), kind: 'simulated' }, { task_id: ID(4), kind: 'simulated' }]);
  });

  it('sends a task of a batch with its batch, so it still runs only if that batch was committed', async () => {
    const store = new InMemoryTaskStore();
    const queue = new InMemoryTaskQueue();
    const clock = new ManualClock();
    const batch = { id: ID(900), commit_by: clock.now().toISOString() };
    await store.createMany([newTask({ title: 't', description: 'd', metadata: {} }, ID(5), clock.now())], batch);
    clock.advance(10 * 60_000);
    await createStaleTaskSweeper({ store, queue, clock, logger: silentLogger, staleAfterSeconds: 300, limit: 100 })();
    expect(queue.messages).toEqual([{ task_id: ID(5), kind: 'simulated', batch }]);
  });

  it('fails (and is retried by its schedule) when the queue is down', async () => {
    const { queue, sweep } = await setup();
    queue.down = true;
    await expect(sweep()).rejects.toThrow(/unavailable/);
  });
});
