import { createHandler } from '#functions/get-stats';
import { newTask } from '#lib/tasks/model';
import type { QueueDepth, QueueGauge } from '#lib/tasks/ports';
import { createStatsReader } from '#lib/tasks/stats';
import { InMemoryActivityLog, InMemoryTaskStore, ManualClock } from '../support/fakes';
import { apiEvent, lambdaContext } from '../support/events';

class FakeGauge implements QueueGauge {
  reads = 0;
  constructor(public current: QueueDepth = { waiting: 0, inFlight: 0, delayed: 0 }) {}
  async depth(): Promise<QueueDepth> {
    this.reads += 1;
    return { ...this.current };
  }
}

function setUp(maxAgeSeconds = 5) {
  const store = new InMemoryTaskStore();
  const queue = new FakeGauge({ waiting: 4, inFlight: 2, delayed: 1 });
  const highPriorityQueue = new FakeGauge({ waiting: 1, inFlight: 1, delayed: 0 });
  const deadLetterQueue = new FakeGauge({ waiting: 3, inFlight: 0, delayed: 0 });
  const clock = new ManualClock();
  const counted = jest.spyOn(store, 'countByStatus');
  const activity = new InMemoryActivityLog();
  const reader = createStatsReader({ store, queue, highPriorityQueue, deadLetterQueue, activity, clock, maxAgeSeconds });
  const add = async (status: 'PENDING' | 'CANCELED', n: number) => {
    for (let i = 0; i < n; i++) {
      const task = newTask({ title: 't', description: 'd', metadata: {} }, `${status}-${i}-${Math.random()}`, clock.now());
      await store.create(status === 'PENDING' ? task : { ...task, status });
    }
  };
  return { store, queue, deadLetterQueue, activity, clock, counted, reader, add };
}

describe('the stats reader', () => {
  it('answers counts by status, their total and both queues in the API shape', async () => {
    const { reader, add, clock } = setUp();
    await add('PENDING', 2);
    await add('CANCELED', 1);
    expect(await reader.stats()).toEqual({
      tasks: { by_status: { PENDING: 2, PROCESSING: 0, COMPLETED: 0, FAILED: 0, CANCELED: 1 }, total: 3 },
      queue: { waiting: 4, in_flight: 2, delayed: 1 },
      high_priority_queue: { waiting: 1, in_flight: 1, delayed: 0 },
      dead_letter_queue: { waiting: 3, in_flight: 0, delayed: 0 },
      last_hour: expect.objectContaining({ completed: 0, failed: 0, submit_to_start_ms: { p50: null, p99: null } }),
      counted_at: clock.now().toISOString(),
      max_age_seconds: 5,
    });
  });

  it('counts at most once per max age, concurrent callers sharing one read, and counts again after it', async () => {
    const { reader, add, clock, counted, queue } = setUp(5);
    await add('PENDING', 1);
    const [first, second] = await Promise.all([reader.stats(), reader.stats()]);
    expect(first).toBe(second);
    expect(counted).toHaveBeenCalledTimes(1);
    await add('PENDING', 1);
    clock.advance(4_999);
    expect((await reader.stats()).tasks.total).toBe(1);
    clock.advance(1);
    expect((await reader.stats()).tasks.total).toBe(2);
    expect(counted).toHaveBeenCalledTimes(2);
    expect(queue.reads).toBe(2);
  });

  it('answers the last hour the processors recorded, minute by minute, with the minute it reads in last', async () => {
    const { reader, activity, clock } = setUp();
    const minute = clock.now().toISOString().slice(0, 16);
    await activity.add([{ minute, completed: 7, failed: 2, queueWait: { 10: 7 }, workTime: { 20: 7 } }]);
    const { last_hour } = await reader.stats();
    expect(last_hour.per_minute).toHaveLength(60);
    expect(last_hour.per_minute.at(-1)).toEqual({ minute, completed: 7, failed: 2 });
    expect(last_hour).toMatchObject({ completed: 7, failed: 2, submit_to_start_ms: { p50: Math.round(2 ** 2.625) }, start_to_end_ms: { p99: Math.round(2 ** 5.125) } });
  });

  it('does not keep a failed read: the next call reads again', async () => {
    const { reader, store, counted } = setUp();
    store.down = true;
    await expect(reader.stats()).rejects.toThrow();
    store.down = false;
    expect((await reader.stats()).tasks.total).toBe(0);
    expect(counted).toHaveBeenCalledTimes(2);
  });
});

describe('GET /api/stats', () => {
  it('answers 200 with the stats and lets a client cache them for their max age', async () => {
    const { reader } = setUp(7);
    const response = await createHandler(reader)(apiEvent({ path: '/api/stats' }), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Cache-Control': 'max-age=7' });
    expect(JSON.parse(response.body)).toMatchObject({ tasks: { total: 0 }, max_age_seconds: 7 });
  });

  it('answers the contract\'s 503 when the table does not answer', async () => {
    const { reader, store } = setUp();
    store.down = true;
    const response = await createHandler(reader)(apiEvent({ path: '/api/stats' }), lambdaContext());
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).error.code).toBe('SERVICE_UNAVAILABLE');
  });
});
