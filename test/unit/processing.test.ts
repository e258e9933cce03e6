import { createHandler as createProcessHandler } from '#functions/process-tasks';
import { createHandler as createDeadLetterHandler } from '#functions/fail-dead-letters';
import { newTask, type SubmitTaskInput } from '#lib/tasks/model';
import { createTaskProcessor, retryDelaySeconds, type ProcessingDeps } from '#lib/tasks/processing';
import { InMemoryTaskQueue, InMemoryTaskStore, kindsRunning, ManualClock, silentLogger, simulatedKinds, type TaskWork } from '../support/fakes';
import { lambdaContext, sqsEvent, sqsRecord } from '../support/events';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** `work` stands in for the default kind's work; `simulation` runs the simulated job with TASK_SIMULATION=on. */
function setup({ work, ...overrides }: Partial<ProcessingDeps> & { work?: TaskWork | 'simulation' | number } = {}) {
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskQueue();
  const clock = new ManualClock();
  const deps: ProcessingDeps = {
    store,
    queue,
    clock,
    logger: silentLogger,
    kinds: typeof work === 'function' ? kindsRunning(store, work) : simulatedKinds(typeof work === 'number' ? work : 0, { simulation: work === 'simulation' }),
    leaseSeconds: 30,
    cancelPollMs: 5,
    retryBaseDelaySeconds: 10,
    maxReceiveCount: 3,
    ...overrides,
  };
  const processor = createTaskProcessor(deps);
  const seed = async (n: number, payload?: SubmitTaskInput['payload']) => {
    await store.create(newTask({ title: 't', description: 'd', metadata: {}, payload }, ID(n), clock.now()));
    return ID(n);
  };
  const message = (taskId: string, receiveCount = 1) => ({
    body: JSON.stringify({ task_id: taskId }),
    receiptHandle: `receipt-${taskId}-${receiveCount}`,
    receiveCount,
  });
  return { store, queue, clock, processor, seed, message };
}

describe('processing one message', () => {
  it('moves a task PENDING -> PROCESSING -> COMPLETED with the payload size as result', async () => {
    const { processor, seed, message, store } = setup();
    const id = await seed(1, { any: 'json' });
    await expect(processor.process(message(id))).resolves.toBe('completed');
    expect(store.items.get(id)!.task).toMatchObject({
      status: 'COMPLETED',
      attempts: 1,
      result: { payload_bytes: Buffer.byteLength('{"any":"json"}') },
      started_at: expect.any(String),
      completed_at: expect.any(String),
      error: null,
    });
    expect(store.items.get(id)!.leaseExpiresAt).toBeUndefined();
  });

  it('reports 0 payload bytes for a task without payload', async () => {
    const { processor, seed, message, store } = setup();
    const id = await seed(2);
    await processor.process(message(id));
    expect(store.items.get(id)!.task.result).toEqual({ payload_bytes: 0 });
  });

  it('changes nothing when the same message comes three times', async () => {
    const { processor, seed, message, store } = setup();
    const id = await seed(3);
    const outcomes = [];
    for (let i = 1; i <= 3; i++) outcomes.push(await processor.process(message(id, i)));
    expect(outcomes).toEqual(['completed', 'already-final', 'already-final']);
    expect(store.items.get(id)!.task).toMatchObject({ status: 'COMPLETED', attempts: 1 });
  });

  it('runs a concurrent duplicate only once: the second delivery waits for the lease', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const work: TaskWork = async () => {
      runs++;
      await gate;
      return 'done';
    };
    const { processor, seed, message, store, queue } = setup({ work });
    const id = await seed(4);
    const first = processor.process(message(id, 1));
    await expect(processor.process(message(id, 2))).rejects.toThrow(/another worker/);
    expect(queue.retries.at(-1)).toEqual({ receiptHandle: `receipt-${id}-2`, delaySeconds: 30 });
    release();
    await expect(first).resolves.toBe('completed');
    expect(runs).toBe(1);
    expect(store.items.get(id)!.task.attempts).toBe(1);
  });

  it('acknowledges a CANCELED task without touching it', async () => {
    const { processor, seed, message, store, clock } = setup();
    const id = await seed(5);
    await store.transition(id, { to: 'CANCELED', at: clock.now() });
    const before = structuredClone(store.items.get(id)!.task);
    await expect(processor.process(message(id))).resolves.toBe('already-final');
    expect(store.items.get(id)!.task).toEqual(before);
  });

  it('stops the work when the task is canceled while PROCESSING, and never completes it', async () => {
    const { processor, seed, message, store, clock } = setup({ work: 60_000 });
    const id = await seed(6);
    const started = Date.now();
    const running = processor.process(message(id));
    while (store.items.get(id)!.task.status !== 'PROCESSING') await new Promise((r) => setTimeout(r, 1));
    await store.transition(id, { to: 'CANCELED', at: clock.now() });
    await expect(running).resolves.toBe('canceled');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(store.items.get(id)!.task).toMatchObject({ status: 'CANCELED', completed_at: null, result: null });
  });

  it('keeps a cancel that lands between the work and the completion write', async () => {
    const { processor, seed, message, store, clock } = setup({
      work: async (task) => {
        await store.transition(task.task_id, { to: 'CANCELED', at: clock.now() });
        return 'late';
      },
      cancelPollMs: 60_000,
    });
    const id = await seed(7);
    await expect(processor.process(message(id))).resolves.toBe('canceled');
    expect(store.items.get(id)!.task.status).toBe('CANCELED');
  });

  it('takes over a task whose worker died: the lease ran out and the redelivered message finishes it', async () => {
    const { processor, seed, message, store, clock } = setup();
    const id = await seed(8);
    // A worker claimed it and died.
    await store.transition(id, { to: 'PROCESSING', at: clock.now(), leaseExpiresAt: new Date(clock.now().getTime() + 30_000), maxAttempts: 3 });
    clock.advance(31_000);
    await expect(processor.process(message(id, 2))).resolves.toBe('completed');
    expect(store.items.get(id)!.task).toMatchObject({ status: 'COMPLETED', attempts: 2 });
  });

  it('refuses the completion of a worker that lost its lease to a newer attempt', async () => {
    const { store, seed, clock } = setup();
    const id = await seed(9);
    const lease = () => new Date(clock.now().getTime() + 1_000);
    await store.transition(id, { to: 'PROCESSING', at: clock.now(), leaseExpiresAt: lease(), maxAttempts: 3 });
    clock.advance(2_000);
    await store.transition(id, { to: 'PROCESSING', at: clock.now(), leaseExpiresAt: lease(), maxAttempts: 3 });
    const stale = await store.transition(id, { to: 'COMPLETED', at: clock.now(), attempt: 1, result: 'old' });
    expect(stale.applied).toBe(false);
    const current = await store.transition(id, { to: 'COMPLETED', at: clock.now(), attempt: 2, result: 'new' });
    expect(current.applied).toBe(true);
  });

  it.each([
    ['not JSON', 'not json'],
    ['JSON without a task id', '{"id":1}'],
    ['an unknown task id', JSON.stringify({ task_id: ID(999) })],
  ])('fails a poison message (%s) so it is retried towards the dead-letter queue', async (_, body) => {
    const { processor, queue } = setup();
    await expect(processor.process({ body, receiptHandle: 'r', receiveCount: 1 })).rejects.toThrow();
    expect(queue.retries).toEqual([{ receiptHandle: 'r', delaySeconds: 10 }]);
  });

  it('fails when DynamoDB is down, leaving the task PENDING for the retry', async () => {
    const { processor, seed, message, store, queue } = setup();
    const id = await seed(10);
    store.down = true;
    await expect(processor.process(message(id))).rejects.toThrow(/unavailable/);
    store.down = false;
    expect(store.items.get(id)!.task.status).toBe('PENDING');
    expect(queue.retries).toHaveLength(1);
  });

  it('claims nothing once the invocation is out of time, so the retry need not wait out a lease', async () => {
    const { processor, seed, message, store, queue } = setup();
    const id = await seed(11);
    await expect(processor.process(message(id), AbortSignal.abort(new Error('timed out')))).rejects.toThrow('timed out');
    expect(store.items.get(id)!.task).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(queue.retries).toHaveLength(1);
  });
});

describe('a failed attempt', () => {
  it('releases its task at once: the retry takes it over without waiting for the lease', async () => {
    const failing: TaskWork = async () => {
      throw new Error('work failed');
    };
    const { processor, seed, message, store, clock, queue } = setup({ work: failing });
    const id = await seed(12);
    await expect(processor.process(message(id, 1))).rejects.toThrow('work failed');
    expect(store.items.get(id)!.leaseExpiresAt).toEqual(clock.now());
    expect(queue.retries.at(-1)).toEqual({ receiptHandle: `receipt-${id}-1`, delaySeconds: 10 });
    clock.advance(10_000);
    await expect(processor.process(message(id, 2))).rejects.toThrow('work failed');
    expect(store.items.get(id)!.task).toMatchObject({ status: 'PROCESSING', attempts: 2 });
  });

  it('counts every attempt that ran: fail_attempts 2 completes at attempt 3', async () => {
    const { processor, seed, message, store, clock } = setup({ work: 'simulation' });
    const id = await seed(13, { simulate: { fail_attempts: 2 } });
    await expect(processor.process(message(id, 1))).rejects.toThrow(/Simulated failure/);
    clock.advance(1);
    await expect(processor.process(message(id, 2))).rejects.toThrow(/Simulated failure/);
    clock.advance(1);
    await expect(processor.process(message(id, 3))).resolves.toBe('completed');
    expect(store.items.get(id)!.task).toMatchObject({ status: 'COMPLETED', attempts: 3 });
  });

  it('never gives a task a fourth attempt: a duplicate or requeued message for a task with its attempts spent fails it', async () => {
    const { processor, seed, message, store, clock } = setup({ work: 'simulation' });
    const id = await seed(15, { simulate: { fail_attempts: 3 } });
    for (const receive of [1, 2, 3]) {
      await expect(processor.process(message(id, receive))).rejects.toThrow(/Simulated failure/);
      clock.advance(1);
    }
    // A fresh message (receive count 1), before the original reaches the dead-letter queue.
    await expect(processor.process(message(id, 1))).resolves.toBe('failed');
    expect(store.items.get(id)!.task).toMatchObject({ status: 'FAILED', attempts: 3, error: { code: 'PROCESSING_FAILED' } });
  });

  it('keeps why the latest attempt failed, and names it in the final error when the dead letter fails the task', async () => {
    const { processor, seed, message, store, clock } = setup({ work: 'simulation' });
    const id = await seed(16, { simulate: { fail_attempts: 3 } });
    await expect(processor.process(message(id, 1))).rejects.toThrow(/Simulated failure/);
    expect(store.items.get(id)!.task).toMatchObject({
      status: 'PROCESSING',
      last_error: { code: 'SIMULATED_FAILURE', message: 'Simulated failure of attempt 1 of 3' },
    });
    for (const receive of [2, 3]) {
      clock.advance(1);
      await expect(processor.process(message(id, receive))).rejects.toThrow(/Simulated failure/);
    }
    clock.advance(1);
    await createDeadLetterHandler(processor)(sqsEvent([sqsRecord(JSON.stringify({ task_id: id }))]), lambdaContext());
    expect(store.items.get(id)!.task.error).toEqual({
      code: 'PROCESSING_FAILED',
      message: 'Processing failed after 3 attempts; the last: SIMULATED_FAILURE: Simulated failure of attempt 3 of 3',
    });
  });

  it('ignores payload.simulate when simulation is off', async () => {
    const { processor, seed, message, store } = setup({ work: 0 });
    const id = await seed(14, { simulate: { fail_attempts: 5 } });
    await expect(processor.process(message(id, 1))).resolves.toBe('completed');
    expect(store.items.get(id)!.task.attempts).toBe(1);
  });
});

describe('a task of a batch submit', () => {
  const batchOf = (clock: ManualClock, commitInMs = 5_000) => ({ id: ID(900), commit_by: new Date(clock.now().getTime() + commitInMs).toISOString() });
  const batchMessage = (taskId: string, batch: { id: string; commit_by: string }) => ({
    body: JSON.stringify({ task_id: taskId, batch }),
    receiptHandle: `receipt-${taskId}`,
    receiveCount: 1,
  });

  it('runs once its batch is committed', async () => {
    const { processor, seed, store, clock } = setup();
    const batch = batchOf(clock);
    await store.settleBatch(batch.id, 'COMMITTED');
    const id = await seed(30);
    await expect(processor.process(batchMessage(id, batch))).resolves.toBe('completed');
  });

  it('is read once for the tasks of one batch that an invocation starts together, while they wait for its commit too', async () => {
    const { processor, seed, store, clock } = setup();
    const batch = batchOf(clock);
    const ids = await Promise.all([40, 41, 42, 43, 44].map((n) => seed(n)));
    const reads = jest.spyOn(store, 'batchVerdict');
    await store.settleBatch(batch.id, 'COMMITTED');
    await expect(Promise.all(ids.map((id) => processor.process(batchMessage(id, batch))))).resolves.toEqual(ids.map(() => 'completed'));
    expect(reads).toHaveBeenCalledTimes(1);

    const waiting = { ...batch, id: ID(901) };
    const later = await Promise.all([45, 46, 47].map((n) => seed(n)));
    reads.mockClear();
    let committed = false;
    reads.mockImplementation(async () => {
      if (committed) return 'COMMITTED';
      committed = reads.mock.calls.length >= 2;
      return undefined;
    });
    await expect(Promise.all(later.map((id) => processor.process(batchMessage(id, waiting))))).resolves.toEqual(later.map(() => 'completed'));
    // One wait for the commit, polled for all three: read until it answered, three times in all.
    expect(reads).toHaveBeenCalledTimes(3);
  });

  it('waits the moment a commit takes, then runs', async () => {
    const { processor, seed, store, clock } = setup();
    const batch = batchOf(clock);
    const id = await seed(31);
    setTimeout(() => void store.settleBatch(batch.id, 'COMMITTED'), 300);
    await expect(processor.process(batchMessage(id, batch))).resolves.toBe('completed');
  });

  it('never runs when its batch was aborted (answered 503): the task is FAILED with no attempt', async () => {
    const { processor, seed, store, clock } = setup();
    const batch = batchOf(clock);
    await store.settleBatch(batch.id, 'ABORTED');
    const id = await seed(32);
    await expect(processor.process(batchMessage(id, batch))).resolves.toBe('failed');
    expect(store.items.get(id)!.task).toMatchObject({ status: 'FAILED', attempts: 0, error: { code: 'BATCH_NOT_ACCEPTED' } });
  });

  it('aborts a batch that has no verdict past its commit_by, and never runs its task', async () => {
    const { processor, seed, store, clock } = setup();
    const batch = batchOf(clock, -60_000);
    const id = await seed(33);
    await expect(processor.process(batchMessage(id, batch))).resolves.toBe('failed');
    expect(store.batches.get(batch.id)).toBe('ABORTED');
    expect(store.items.get(id)!.task).toMatchObject({ status: 'FAILED', attempts: 0 });
  });

  it('comes back later, unclaimed, when the invocation runs out of time waiting for the verdict', async () => {
    const { processor, seed, store, clock } = setup();
    const id = await seed(34);
    const outOfTime = new AbortController();
    setTimeout(() => outOfTime.abort(), 300);
    const other = await seed(35);
    const batch = batchOf(clock);
    const outcomes = await Promise.allSettled([id, other].map((taskId) => processor.process(batchMessage(taskId, batch), outOfTime.signal)));
    // Each task is told apart in its own error, though they waited on one read.
    expect(outcomes.map((outcome) => (outcome as PromiseRejectedResult).reason?.message)).toEqual([
      `The batch of task ${id} is not committed yet`,
      `The batch of task ${other} is not committed yet`,
    ]);
    expect(store.items.get(id)!.task).toMatchObject({ status: 'PENDING', attempts: 0 });
  });
});

describe('retry backoff', () => {
  it.each([
    [1, 10],
    [2, 20],
    [3, 0],
    [5, 0],
  ])('receive %i waits %i s (zero on the last, so the message reaches the DLQ at once)', (receive, delay) => {
    expect(retryDelaySeconds(receive, 10, 3)).toBe(delay);
  });

  it('is capped at 15 minutes', () => {
    expect(retryDelaySeconds(9, 10, 20)).toBe(900);
  });
});

describe('the processor handler', () => {
  it('works a batch concurrently and reports only the failing record', async () => {
    const work: TaskWork = async (task) => {
      if (task.title === 'boom') throw new Error('work failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'ok';
    };
    const { processor, store, clock } = setup({ work });
    const ids = [ID(21), ID(22), ID(23), ID(24)];
    for (const [index, id] of ids.entries()) {
      await store.create(newTask({ title: index === 2 ? 'boom' : 't', description: 'd', metadata: {} }, id, clock.now()));
    }
    const records = ids.map((id) => sqsRecord(JSON.stringify({ task_id: id })));
    const handler = createProcessHandler(processor);
    const started = Date.now();
    const response = await handler(sqsEvent(records), lambdaContext());
    // Concurrent: four 100 ms jobs take about 100 ms, not 400.
    expect(Date.now() - started).toBeLessThan(350);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[2]!.messageId }] });
    expect(ids.map((id) => store.items.get(id)!.task.status)).toEqual(['COMPLETED', 'COMPLETED', 'PROCESSING', 'COMPLETED']);
  });

  it('reports every record of a batch that failed whole, instead of throwing', async () => {
    const { processor } = setup();
    const records = [sqsRecord('x'), sqsRecord('y')];
    const response = await createProcessHandler(processor)(sqsEvent(records), lambdaContext());
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
  });
});

describe('the dead-letter handler', () => {
  it('marks FAILED the tasks that ran out of attempts, and leaves final ones alone', async () => {
    const { processor, seed, store, clock } = setup();
    const pending = await seed(31);
    const processing = await seed(32);
    const completed = await seed(33);
    // Its worker died: the lease ran out a second ago.
    await store.transition(processing, { to: 'PROCESSING', at: clock.now(), leaseExpiresAt: new Date(clock.now().getTime() - 1_000), maxAttempts: 3 });
    await store.transition(completed, { to: 'PROCESSING', at: clock.now(), leaseExpiresAt: clock.now(), maxAttempts: 3 });
    await store.transition(completed, { to: 'COMPLETED', at: clock.now(), attempt: 1, result: null });
    const records = [pending, processing, completed].map((id) => sqsRecord(JSON.stringify({ task_id: id }), 4));
    records.push(sqsRecord('poison', 4));
    const response = await createDeadLetterHandler(processor)(sqsEvent(records), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(store.items.get(pending)!.task).toMatchObject({ status: 'FAILED', error: { code: 'PROCESSING_FAILED' } });
    expect(store.items.get(processing)!.task.status).toBe('FAILED');
    expect(store.items.get(completed)!.task.status).toBe('COMPLETED');
  });

  it('never fails a task a live worker holds: the dead letter is reported and comes back later', async () => {
    const { processor, seed, store, clock } = setup();
    const id = await seed(35);
    await store.transition(id, { to: 'PROCESSING', at: clock.now(), leaseExpiresAt: new Date(clock.now().getTime() + 20_000), maxAttempts: 3 });
    const record = sqsRecord(JSON.stringify({ task_id: id }), 4);
    const response = await createDeadLetterHandler(processor)(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(store.items.get(id)!.task).toMatchObject({ status: 'PROCESSING', error: null });
    clock.advance(21_000);
    await createDeadLetterHandler(processor)(sqsEvent([record]), lambdaContext());
    expect(store.items.get(id)!.task.status).toBe('FAILED');
  });

  it('reports a dead letter whose task could not be marked, so it is tried again', async () => {
    const { processor, seed, store } = setup();
    const id = await seed(34);
    store.down = true;
    const record = sqsRecord(JSON.stringify({ task_id: id }), 4);
    const response = await createDeadLetterHandler(processor)(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });
});

describe('the processor handler under overlap and deadlines', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps each invocation\'s failures its own when batches of one handler overlap', async () => {
    // Record "fail" fails at 300 ms, "slow" succeeds at 500 ms; a second batch starts at 100 ms or 400 ms.
    const work: TaskWork = async (task) => {
      if (task.title === 'fail') {
        await sleep(300);
        throw new Error('work failed');
      }
      await sleep(task.title === 'slow' ? 500 : 50);
      return 'ok';
    };
    for (const secondAt of [100, 400]) {
      const { processor, store, clock } = setup({ work });
      const handler = createProcessHandler(processor);
      const record = async (n: number, title: string) => {
        await store.create(newTask({ title, description: 'd', metadata: {} }, ID(n), clock.now()));
        return sqsRecord(JSON.stringify({ task_id: ID(n) }));
      };
      const failing = await record(41, 'fail');
      const batchA = handler(sqsEvent([failing, await record(42, 'slow')]), lambdaContext());
      await sleep(secondAt);
      const batchB = handler(sqsEvent([await record(43, 'quick')]), lambdaContext());
      expect(await batchA).toEqual({ batchItemFailures: [{ itemIdentifier: failing.messageId }] });
      expect(await batchB).toEqual({ batchItemFailures: [] });
    }
  });

  it('returns the records it could not finish before its deadline as failures, instead of failing whole', async () => {
    const { processor, store, clock, queue } = setup({ work: 'simulation' });
    const quick = ID(51);
    const slow = ID(52);
    await store.create(newTask({ title: 't', description: 'd', metadata: {} }, quick, clock.now()));
    await store.create(newTask({ title: 't', description: 'd', metadata: {}, payload: { simulate: { work_ms: 20_000 } } }, slow, clock.now()));
    const records = [quick, slow].map((id) => sqsRecord(JSON.stringify({ task_id: id })));
    // 3.5 s left: the work is stopped 3 s before the timeout, at 500 ms.
    const response = await createProcessHandler(processor)(sqsEvent(records), { ...lambdaContext(), getRemainingTimeInMillis: () => 3_500 });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
    expect(store.items.get(quick)!.task.status).toBe('COMPLETED');
    // The stopped attempt gave its task back and set its retry delay.
    expect(store.items.get(slow)!.leaseExpiresAt).toEqual(clock.now());
    expect(queue.retries).toEqual([{ receiptHandle: records[1]!.receiptHandle, delaySeconds: 10 }]);
  });
});
