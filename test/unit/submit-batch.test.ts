import { createHandler } from '#functions/submit-batch';
import { MAX_BODY_BYTES } from '#lib/handlers/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineExceededError, remainingMs } from '#lib/deadline';
import { DependencyUnavailableError } from '#lib/errors';
import { createDueTaskDispatcher } from '#lib/tasks/dispatcher';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';
import { jsonPost, lambdaContext } from '../support/events';

function setup() {
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskQueue();
  const submit = createHandler(createTaskService({ store, queue, clock: new ManualClock(), logger: silentLogger }));
  const post = async (body: unknown) => {
    const result = await submit(jsonPost(body), lambdaContext());
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };
  return { store, queue, post };
}

const task = (n: number) => ({ title: `task ${n}`, description: 'batch', payload: { n } });

describe('POST /api/tasks/batch', () => {
  it('stores and queues every task, answering their ids in request order', async () => {
    const { post, store, queue } = setup();
    const { status, body } = await post({ tasks: Array.from({ length: 100 }, (_, n) => task(n)) });
    expect(status).toBe(202);
    expect(body.tasks).toHaveLength(100);
    expect(body.tasks.every((t: { status: string }) => t.status === 'PENDING')).toBe(true);
    body.tasks.forEach((t: { task_id: string }, n: number) => expect(store.items.get(t.task_id)!.task.payload).toEqual({ n }));
    expect(queue.messages.map((m) => m.task_id)).toEqual(body.tasks.map((t: { task_id: string }) => t.task_id));
    // Every message names the batch, and the batch is committed: its tasks may run.
    const batchId = queue.messages[0]!.batch!.id;
    expect(queue.messages.every((m) => m.batch?.id === batchId)).toBe(true);
    expect(store.batches.get(batchId)).toBe('COMMITTED');
  });

  it.each([
    ['no tasks', { tasks: [] }, 'tasks'],
    ['101 tasks', { tasks: Array.from({ length: 101 }, (_, n) => task(n)) }, 'tasks'],
    ['one invalid task among valid ones', { tasks: [task(0), task(1), task(2), { ...task(3), title: ' ' }] }, 'tasks.3.title'],
    ['an unknown field', { tasks: [task(0)], priority: 1 }, ''],
    ['tasks that is not an array', { tasks: {} }, 'tasks'],
  ])('refuses %s with 400 and stores nothing', async (_, body, path) => {
    const { post, store, queue } = setup();
    const refused = await post(body);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_ERROR');
    expect(refused.body.error.details[0].path).toBe(path);
    expect(store.items.size).toBe(0);
    expect(queue.messages).toHaveLength(0);
  });

  it('refuses a batch over 256 KiB with 413', async () => {
    const { post, store } = setup();
    const big = { tasks: [{ ...task(0), payload: 'x'.repeat(MAX_BODY_BYTES) }] };
    expect((await post(big)).status).toBe(413);
    expect(store.items.size).toBe(0);
  });

  it('answers 503 and marks the whole batch FAILED when the enqueue fails', async () => {
    const { post, store, queue } = setup();
    queue.down = true;
    const { status, body } = await post({ tasks: [task(0), task(1), task(2)] });
    expect(status).toBe(503);
    expect(body.error.code).toBe('SERVICE_UNAVAILABLE');
    const stored = [...store.items.values()].map(({ task }) => task);
    expect(stored).toHaveLength(3);
    expect(stored.every((t) => t.status === 'FAILED' && t.error?.code === 'BATCH_NOT_ACCEPTED')).toBe(true);
    expect([...store.batches.values()]).toEqual(['ABORTED']);
  });

  it('hands the tasks of a refused batch to the processors, with the aborted batch, so none waits as PENDING when it cannot mark them', async () => {
    const { post, store, queue } = setup();
    // SQS refuses the first send; then the store refuses every status write, so nothing can be marked here.
    const enqueueAll = queue.enqueueAll.bind(queue);
    let sends = 0;
    queue.enqueueAll = async (messages) => {
      if (++sends === 1) throw new DependencyUnavailableError('task queue');
      return enqueueAll(messages);
    };
    store.transition = async () => {
      throw new DependencyUnavailableError('task store');
    };
    const { status } = await post({ tasks: [task(0), task(1)] });
    expect(status).toBe(503);
    const stored = [...store.items.values()].map(({ task }) => task);
    expect(stored.every((t) => t.status === 'PENDING')).toBe(true);
    const [batchId] = [...store.batches.keys()];
    expect(store.batches.get(batchId!)).toBe('ABORTED');
    // A processor given these finds the batch aborted and fails each task (processing.test.ts).
    expect(queue.messages.map((m) => m.task_id).sort()).toEqual(stored.map((t) => t.task_id).sort());
    expect(queue.messages.every((m) => m.batch?.id === batchId)).toBe(true);
  });

  it('leaves the messages it could not send with the abort when neither the queue nor the status writes go through, and the dispatcher sends them at its next run', async () => {
    const { post, store, queue } = setup();
    queue.down = true;
    const transition = store.transition.bind(store);
    store.transition = async () => {
      throw new DependencyUnavailableError('task store');
    };
    expect((await post({ tasks: [task(0), task(1)] })).status).toBe(503);
    const stored = [...store.items.values()].map(({ task }) => task);
    expect(stored.map((t) => t.status)).toEqual(['PENDING', 'PENDING']);
    expect(queue.messages).toEqual([]);

    queue.down = false;
    store.transition = transition;
    const dispatch = createDueTaskDispatcher({ store, queue, clock: new ManualClock(), logger: silentLogger, limit: 10 });
    await expect(dispatch()).resolves.toEqual({ dispatched: 0, handedOff: 2 });
    const [batchId] = [...store.batches.keys()];
    expect(queue.messages.map((m) => [m.task_id, m.batch?.id]).sort()).toEqual(stored.map((t) => [t.task_id, batchId]).sort());
    // Taken once: the next run sends nothing again.
    await expect(dispatch()).resolves.toEqual({ dispatched: 0, handedOff: 0 });
  });

  /**
   * A batch submit with 5 s left whose queue refuses every send once that time is up (and its first,
   * if asked), its store broken by each test; `expectHandedOver` submits and checks that every
   * stored task got its message.
   */
  function handOverSetup({ refuseFirstSend }: { refuseFirstSend: boolean }) {
    const { store, queue } = setup();
    const enqueueAll = queue.enqueueAll.bind(queue);
    let sends = 0;
    queue.enqueueAll = async (messages) => {
      if ((++sends === 1 && refuseFirstSend) || (remainingMs() ?? 1) <= 0) throw new DependencyUnavailableError('task queue');
      return enqueueAll(messages);
    };
    const expectHandedOver = async () => {
      const submit = createHandler(createTaskService({ store, queue, clock: new ManualClock(), logger: silentLogger }));
      const result = await submit(jsonPost({ tasks: [task(0), task(1)] }), { ...lambdaContext(), getRemainingTimeInMillis: () => 5_000 });
      expect(result.statusCode).toBe(503);
      const stored = [...store.items.values()].map(({ task }) => task.task_id).sort();
      expect(stored).toHaveLength(2);
      expect(queue.messages.map((m) => m.task_id).sort()).toEqual(stored);
    };
    return { store, expectHandedOver };
  }

  it.each([
    ['hang until the invocation\'s time is up, and nothing starts after it, as the SDK clients behave (lib/aws/clients.ts)', 0],
    // As on a machine so busy that the aborts of timed-out calls run late: the marking eats the whole
    // budget. A hand-off made after the marking found no time left (docs/performance.md).
    ['answer only well past their deadline', 1_200],
  ])('hands its tasks over in time, with the marking FAILED refused, when the status writes %s', async (_, lateMs) => {
    const { store, expectHandedOver } = handOverSetup({ refuseFirstSend: true });
    store.transition = async () => {
      await sleep(Math.max(0, remainingMs() ?? 0) + lateMs);
      throw new DependencyUnavailableError('task store', { cause: new DeadlineExceededError() });
    };
    await expectHandedOver();
  }, 15_000);

  it("hands its tasks over with what time is left when the store write that failed answered late, and kept back less than the verdict's window", async () => {
    const { store, expectHandedOver } = handOverSetup({ refuseFirstSend: false });
    // The tasks are stored, but the answer comes 2.8 s past the call's deadline: about 1.2 s of the
    // invocation is left when the submit learns of the failure. No status write gets through.
    const createMany = store.createMany.bind(store);
    store.createMany = async (tasks, batch) => {
      await createMany(tasks, batch);
      await sleep(Math.max(0, remainingMs() ?? 0) + 2_800);
      throw new DependencyUnavailableError('task store', { cause: new DeadlineExceededError() });
    };
    store.transition = async () => {
      throw new DependencyUnavailableError('task store');
    };
    await expectHandedOver();
  }, 15_000);

  it('answers 202 when its commit was applied but the answers were lost: the client gets the verdict the store holds', async () => {
    const { post, store } = setup();
    const settle = store.settleBatch.bind(store);
    let calls = 0;
    // The commit lands, and neither its answer nor the first abort's comes back.
    store.settleBatch = async (batchId, verdict) => {
      const held = await settle(batchId, verdict);
      if (++calls <= 2) throw new DependencyUnavailableError('task store');
      return held;
    };
    const { status, body } = await post({ tasks: [task(0), task(1)] });
    expect(status).toBe(202);
    expect(body.tasks.every((t: { task_id: string }) => store.items.get(t.task_id)!.task.status === 'PENDING')).toBe(true);
  });

  it('answers 202 when its commit was sent and no verdict comes back: a 503 would be false if the commit landed', async () => {
    const { post, store } = setup();
    const settle = store.settleBatch.bind(store);
    // The commit lands and its answer is lost; the store then answers nothing more about the batch.
    store.settleBatch = async (batchId, verdict) => {
      if (verdict === 'COMMITTED') await settle(batchId, verdict);
      throw new DependencyUnavailableError('task store');
    };
    const { status, body } = await post({ tasks: [task(0), task(1)] });
    expect(status).toBe(202);
    const [batchId] = [...store.batches.keys()];
    expect(store.batches.get(batchId!)).toBe('COMMITTED');
    expect(body.tasks.every((t: { task_id: string }) => store.items.get(t.task_id)!.task.status === 'PENDING')).toBe(true);
  });

  it('answers 503 when the store fails before the commit is sent, however the abort fares: nobody else commits', async () => {
    const { post, store } = setup();
    store.createMany = async () => {
      throw new DependencyUnavailableError('task store');
    };
    store.settleBatch = async () => {
      throw new DependencyUnavailableError('task store');
    };
    expect((await post({ tasks: [task(0)] })).status).toBe(503);
  });

  it('answers 503 and aborts the batch when the commit is refused: a processor aborted it first', async () => {
    const { post, store } = setup();
    const settle = store.settleBatch.bind(store);
    store.settleBatch = async (batchId, verdict) => settle(batchId, verdict === 'COMMITTED' ? 'ABORTED' : verdict);
    expect((await post({ tasks: [task(0)] })).status).toBe(503);
    expect([...store.items.values()].every(({ task }) => task.status === 'FAILED')).toBe(true);
  });
});
