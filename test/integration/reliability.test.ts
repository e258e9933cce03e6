import { randomUUID } from 'node:crypto';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createHandler } from '#functions/process-tasks';
import { toReceivedMessage } from '#lib/handlers/sqs-batch';
import { createDocumentClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { systemClock } from '#lib/clock';
import { newTask } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { invokeFunction } from '../../local/embedded-stack';
import { InMemoryTaskQueue, kindsRunning, silentLogger, type TaskWork } from '../support/fakes';
import { lambdaContext, sqsEvent, sqsRecord } from '../support/events';
import { eventually, stackEnv } from '../support/stack-env';

const env = stackEnv();
const documentClient = createDocumentClient();
const store = new DynamoDbTaskStore(documentClient, env.tableName);
const lambda = new LambdaClient({ ...(env.lambdaEndpoint ? { endpoint: env.lambdaEndpoint } : {}), maxAttempts: 1 });
const statusOf = async (taskId: string) => (await store.getStatuses([taskId])).get(taskId);

afterAll(() => {
  documentClient.destroy();
  lambda.destroy();
});

const input = { title: 'reliability', description: 'integration', metadata: {} };

const processor = (work: TaskWork, leaseSeconds = 30) =>
  createTaskProcessor({
    store,
    queue: new InMemoryTaskQueue(),
    clock: systemClock,
    logger: silentLogger,
    kinds: kindsRunning(store, work),
    leaseSeconds,
    cancelPollMs: 50,
    retryBaseDelaySeconds: 0,
    maxReceiveCount: 3,
  });
/** Work that never ends on its own: it stops only when its signal aborts. */
const hang: TaskWork = (_task, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

async function storedRecords(count: number) {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (const id of ids) await store.create(newTask(input, id, new Date()));
  return { ids, records: ids.map((id) => sqsRecord(JSON.stringify({ task_id: id }))) };
}

describe('a worker killed mid-batch', () => {
  it('leaves nothing stuck: the redelivered batch is finished by the next worker, each task completed once', async () => {
    const { ids, records } = await storedRecords(3);
    // The first worker claims the batch and dies: it never answers, never cleans up (until the test ends, so nothing is left running).
    const dying = processor(hang, 1);
    const testEnd = new AbortController();
    const dead = records.map((record) => dying.process(toReceivedMessage(record), testEnd.signal).catch(() => undefined));
    await eventually(async () => {
      const statuses = await Promise.all(ids.map((id) => statusOf(id)));
      return statuses.every((s) => s === 'PROCESSING') ? true : undefined;
    });

    // SQS redelivers the batch once its visibility runs out; by then the lease has run out too.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const redelivered = ids.map((id) => sqsRecord(JSON.stringify({ task_id: id }), 2));
    const next = processor(async () => ({ payload_bytes: 0 }), 30);
    expect(await createHandler(next)(sqsEvent(redelivered), lambdaContext())).toEqual({ batchItemFailures: [] });

    for (const id of ids) {
      expect(await store.get(id)).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    }
    // A third delivery of the same messages changes nothing.
    expect(await createHandler(next)(sqsEvent(redelivered), lambdaContext())).toEqual({ batchItemFailures: [] });
    for (const id of ids) expect(await store.get(id)).toMatchObject({ attempts: 2 });
    testEnd.abort();
    await Promise.all(dead);
  });
});

describe('a batch near its deadline', () => {
  it('reports what it did not finish as failures and gives those tasks back at once', async () => {
    const { ids, records } = await storedRecords(3);
    // 4 s left: the work is stopped at 1 s, and the batch answers instead of timing out.
    const response = await createHandler(processor(hang))(sqsEvent(records), { ...lambdaContext(), getRemainingTimeInMillis: () => 4_000 });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(records.map((r) => r.messageId).sort());
    // Released: the retry claims the tasks at once although their 30 s lease has not run out.
    const redelivered = ids.map((id) => sqsRecord(JSON.stringify({ task_id: id }), 2));
    expect(await createHandler(processor(async () => ({ payload_bytes: 0 })))(sqsEvent(redelivered), lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    for (const id of ids) expect(await store.get(id)).toMatchObject({ status: 'COMPLETED', attempts: 2 });
  });
});

const describeWithLambda = env.lambdaEndpoint ? describe : describe.skip;

describeWithLambda('a submit that died between its write and its send', () => {
  it('is requeued by the scheduled sweeper and processed by the stack', async () => {
    const id = randomUUID();
    // Stored an hour ago, never enqueued.
    await store.create(newTask(input, id, new Date(Date.now() - 3_600_000)));
    const swept = (await invokeFunction(lambda, env.functionName('requeueStaleTasks'), {})) as { requeued: number };
    expect(swept.requeued).toBeGreaterThanOrEqual(1);
    const done = await eventually(async () => {
      const task = await store.get(id);
      return task?.status === 'COMPLETED' ? task : undefined;
    });
    expect(done.attempts).toBe(1);
  });
});
