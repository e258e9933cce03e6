import { createHandler as createDispatchHandler } from '#functions/dispatch-due-tasks';
import { createDueTaskDispatcher } from '#lib/tasks/dispatcher';
import { createKindRegistry } from '#lib/tasks/kind';
import { newTask, submitTaskSchema } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { isDue, isHeld, MAX_DELAY_SECONDS, queueDelaySeconds, runAtOf } from '#lib/tasks/schedule';
import { createStaleTaskSweeper } from '#lib/tasks/sweeper';
import { createTaskService } from '#lib/tasks/service';
import { simulatedKind } from '#lib/tasks/work';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger, simulatedKinds } from '../support/fakes';
import { lambdaContext } from '../support/events';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const input = { title: 't', description: 'd', metadata: {} };
const AHEAD = 840;

describe('when a delayed task is due, and how it waits', () => {
  const now = new Date('2026-12-01T12:00:00.000Z');

  it('takes run_at as sent, delay_seconds from the submit, and neither as at once', () => {
    expect(runAtOf({ run_at: '2026-12-01T13:00:00+01:00' }, now)).toBe('2026-12-01T12:00:00.000Z');
    expect(runAtOf({ delay_seconds: 90 }, now)).toBe('2026-12-01T12:01:30.000Z');
    expect(runAtOf({ delay_seconds: 0 }, now)).toBeNull();
    expect(runAtOf({}, now)).toBeNull();
  });

  it('holds for the dispatcher only a task due later than the dispatch lead after its submit', () => {
    const task = (delaySeconds: number) => newTask({ ...input, delay_seconds: delaySeconds }, ID(1), now);
    expect(isHeld(task(AHEAD), AHEAD)).toBe(false);
    expect(isHeld(task(AHEAD + 1), AHEAD)).toBe(true);
    expect(isHeld(newTask(input, ID(1), now), AHEAD)).toBe(false);
  });

  it('delays a message by the whole seconds left, never past SQS’s 900, never below 0', () => {
    expect(queueDelaySeconds(null, now)).toBe(0);
    expect(queueDelaySeconds('2026-12-01T12:00:01.200Z', now)).toBe(2);
    expect(queueDelaySeconds('2026-12-01T12:30:00.000Z', now)).toBe(900);
    expect(queueDelaySeconds('2026-12-01T11:00:00.000Z', now)).toBe(0);
  });

  it('is due at its run_at, not a millisecond before', () => {
    expect(isDue({ run_at: now.toISOString() }, now)).toBe(true);
    expect(isDue({ run_at: new Date(now.getTime() + 1).toISOString() }, now)).toBe(false);
    expect(isDue({ run_at: null }, now)).toBe(true);
  });
});

describe('a submit’s run_at and delay_seconds, as validated', () => {
  const schema = submitTaskSchema(createKindRegistry([simulatedKind(0)]));
  const issues = (body: object) => {
    const parsed = schema.safeParse({ ...input, ...body });
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('accepts either, and a past run_at (at once)', () => {
    expect(issues({ run_at: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(issues({ run_at: '2020-01-01T00:00:00Z' })).toEqual([]);
    expect(issues({ delay_seconds: MAX_DELAY_SECONDS })).toEqual([]);
  });

  it.each([
    [{ run_at: new Date(Date.now() + 60_000).toISOString(), delay_seconds: 5 }, /^delay_seconds: cannot be sent with run_at/],
    [{ run_at: new Date(Date.now() + (MAX_DELAY_SECONDS + 3_600) * 1000).toISOString() }, /^run_at: must be at most a year ahead/],
    [{ run_at: 'tomorrow' }, /^run_at: must be an ISO 8601 date-time/],
    [{ run_at: '2026-12-01T18:00:00' }, /^run_at: must be an ISO 8601 date-time with a time zone/],
    [{ delay_seconds: MAX_DELAY_SECONDS + 1 }, /^delay_seconds: must be at most/],
    [{ delay_seconds: -1 }, /^delay_seconds: must be at least 0/],
    [{ delay_seconds: 1.5 }, /^delay_seconds: must be a whole number/],
  ])('refuses %j', (body, why) => {
    expect(issues(body)[0]).toMatch(why);
  });
});

describe('a delayed task through submit, dispatcher, sweeper and processor (in memory)', () => {
  function setup() {
    const store = new InMemoryTaskStore(AHEAD);
    const queue = new InMemoryTaskQueue();
    const clock = new ManualClock(new Date('2026-12-01T12:00:00.000Z'));
    let n = 0;
    const service = createTaskService({ store, queue, clock, logger: silentLogger, newId: () => ID(++n), dispatchAheadSeconds: AHEAD });
    const dispatch = createDueTaskDispatcher({ store, queue, clock, logger: silentLogger, aheadSeconds: AHEAD, limit: 100 });
    const processor = createTaskProcessor({ store, queue, clock, logger: silentLogger, kinds: simulatedKinds(0), leaseSeconds: 30, cancelPollMs: 5, retryBaseDelaySeconds: 10, maxReceiveCount: 3 });
    const sweep = createStaleTaskSweeper({ store, queue, clock, logger: silentLogger, staleAfterSeconds: 300, limit: 100 });
    const received = (taskId: string) => ({ body: JSON.stringify(queue.messages.find((message) => message.task_id === taskId)), receiptHandle: `r-${taskId}`, receiveCount: 1 });
    return { store, queue, clock, service, dispatch, processor, sweep, received };
  }

  it('queues a task due within the dispatch lead at once, with its run_at for the queue’s delay', async () => {
    const { service, queue } = setup();
    const { task_id } = await service.submit({ ...input, delay_seconds: 60 });
    expect(queue.messages).toEqual([{ task_id, kind: 'simulated', run_at: '2026-12-01T12:01:00.000Z' }]);
  });

  it('holds a later one, which the dispatcher queues once it is within the lead, once, and not when canceled', async () => {
    const { service, queue, dispatch, clock } = setup();
    const later = await service.submit({ ...input, delay_seconds: 3_600 });
    const canceled = await service.submit({ ...input, delay_seconds: 3_600 });
    const batch = await service.submitBatch([{ ...input, delay_seconds: 7_200 }, { ...input }]);
    expect(queue.messages.map((message) => message.task_id)).toEqual([batch.tasks[1]!.task_id]);
    await service.cancel(canceled.task_id);

    clock.advance((3_600 - AHEAD - 1) * 1000);
    await expect(createDispatchHandler(dispatch)({}, lambdaContext())).resolves.toEqual({ dispatched: 0, handedOff: 0 });
    clock.advance(1_000);
    await expect(dispatch()).resolves.toEqual({ dispatched: 1, handedOff: 0 });
    await expect(dispatch()).resolves.toEqual({ dispatched: 0, handedOff: 0 });
    expect(queue.messages.at(-1)).toEqual({ task_id: later.task_id, kind: 'simulated', run_at: '2026-12-01T13:00:00.000Z' });
    // A held task of a batch goes with its batch: it runs only if the batch was committed.
    clock.advance(3_600 * 1000);
    await dispatch();
    expect(queue.messages.at(-1)).toMatchObject({ task_id: batch.tasks[0]!.task_id, batch: { id: expect.any(String) } });
  });

  it('never starts a task before its run_at: an early message is sent again with the wait, or left to the dispatcher', async () => {
    const { service, queue, processor, store, clock, received } = setup();
    const soon = await service.submit({ ...input, delay_seconds: 60 });
    await expect(processor.process(received(soon.task_id))).resolves.toBe('deferred');
    expect(store.items.get(soon.task_id)!.task).toMatchObject({ status: 'PENDING', attempts: 0, started_at: null });
    expect(queue.messages.filter((message) => message.task_id === soon.task_id)).toHaveLength(2);

    const held = await service.submit({ ...input, delay_seconds: 3_600 });
    queue.messages.push({ task_id: held.task_id, kind: 'simulated', run_at: store.items.get(held.task_id)!.task.run_at! });
    const sent = queue.messages.length;
    await expect(processor.process(received(held.task_id))).resolves.toBe('deferred');
    expect(queue.messages).toHaveLength(sent);

    clock.advance(60_000);
    await expect(processor.process(received(soon.task_id))).resolves.toBe('completed');
    expect(Date.parse(store.items.get(soon.task_id)!.task.started_at!)).toBeGreaterThanOrEqual(Date.parse('2026-12-01T12:01:00.000Z'));
  });

  it('lets the sweeper requeue a delayed task only a stale period after it was due, and never a held one', async () => {
    const { service, queue, sweep, clock } = setup();
    const soon = await service.submit({ ...input, delay_seconds: 600 });
    await service.submit({ ...input, delay_seconds: 86_400 });
    const sent = queue.messages.length;
    clock.advance(600_000);
    await expect(sweep()).resolves.toEqual({ requeued: 0 });
    clock.advance(301_000);
    await expect(sweep()).resolves.toEqual({ requeued: 1 });
    expect(queue.messages.slice(sent).map((message) => message.task_id)).toEqual([soon.task_id]);
  });
});
