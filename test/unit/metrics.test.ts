import { createHandler as createGet } from '#functions/get-task';
import { logger } from '#lib/logger';
import { countAwsRequest } from '#lib/aws/cloudwatch-metrics';
import { metrics } from '#lib/metrics';
import { newTask } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, kindsRunning, ManualClock, RecordingMetrics, silentLogger } from '../support/fakes';
import { apiEvent, lambdaContext } from '../support/events';

describe('task metrics', () => {
  it('counts every step of a task\'s life, and times its queue wait and its work', async () => {
    const store = new InMemoryTaskStore();
    const queue = new InMemoryTaskQueue();
    const clock = new ManualClock();
    const metrics = new RecordingMetrics();
    const service = createTaskService({ store, queue, clock, logger: silentLogger, metrics });
    const processor = createTaskProcessor({
      store,
      queue,
      clock,
      logger: silentLogger,
      metrics,
      kinds: kindsRunning(store, async () => {
        clock.advance(3_000);
        return { payload_bytes: 0 };
      }),
      leaseSeconds: 30,
      cancelPollMs: 1_000,
      retryBaseDelaySeconds: 0,
      maxReceiveCount: 3,
    });

    const { task_id, created_at } = await service.submit({ title: 't', description: 'd', metadata: {} });
    clock.advance(500);
    await processor.process({ body: JSON.stringify({ task_id }), receiptHandle: 'r', receiveCount: 1, sentAt: new Date(created_at) });
    const canceled = await service.submit({ title: 'c', description: 'd', metadata: {} });
    await service.cancel(canceled.task_id);
    const failing = '00000000-0000-4000-8000-000000000009';
    await store.create(newTask({ title: 'f', description: 'd', metadata: {} }, failing, clock.now()));
    await processor.failDeadLetter({ body: JSON.stringify({ task_id: failing }), receiptHandle: 'r', receiveCount: 4 });

    expect(metrics.counts).toEqual({ TasksSubmitted: 2, TasksStarted: 1, TasksCompleted: 1, TasksCanceled: 1, TasksFailed: 1 });
    expect(metrics.durations).toEqual({ QueueWait: [500], WorkTime: [3_000] });
  });
});

describe('publishing recorded metrics', () => {
  afterEach(() => jest.restoreAllMocks());

  it('writes one EMF line when the invocation recorded metrics, and nothing (no warning either) when it recorded none', async () => {
    const publish = jest.spyOn(metrics, 'publishStoredMetrics');
    const warn = jest.spyOn(logger, 'warn');
    const get = createGet({ get: async () => Promise.reject(new Error('not reached')), waitFor: async () => Promise.reject(new Error('not reached')) });

    const refused = await get(apiEvent({ pathParameters: { task_id: 'not-a-uuid' } }), lambdaContext());
    expect(refused.statusCode).toBe(400);
    expect(publish).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();

    countAwsRequest('DynamoDB.GetItem');
    const counted = await get(apiEvent({ pathParameters: { task_id: '00000000-0000-4000-8000-000000000001' } }), lambdaContext());
    expect(counted.statusCode).toBe(500);
    expect(publish).toHaveBeenCalledTimes(1);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});
