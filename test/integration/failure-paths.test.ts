import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createHandler as createSubmitHandler } from '#functions/submit';
import { createHandler as createDeadLetterHandler } from '#functions/fail-dead-letters';
import { createDocumentClient, createSqsClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { SqsTaskQueue } from '#lib/aws/sqs-task-queue';
import { systemClock } from '#lib/clock';
import { newTask } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { createTaskService } from '#lib/tasks/service';
import { createStaleTaskSweeper } from '#lib/tasks/sweeper';
import { createDueTaskDispatcher } from '#lib/tasks/dispatcher';
import { InMemoryTaskQueue, ManualClock, silentLogger, simulatedKinds } from '../support/fakes';
import { jsonPost, lambdaContext, sqsEvent, sqsRecord } from '../support/events';
import { failCalls, silentEndpoint } from '../support/faults';
import { createTableLike } from '../../local/resources';
import { stackEnv } from '../support/stack-env';

/**
 * Each failure injected at the real emulators (DynamoDB Local, the SQS emulator) or on the wire to
 * them: a call refused by a client in front of the emulator, or an endpoint that never answers.
 */
const { tableName } = stackEnv();
const clients: Array<{ destroy(): void }> = [];
const documentClient = (inject?: (operation: string) => boolean) => {
  const client = createDocumentClient();
  if (inject) failCalls(client, inject);
  clients.push(client);
  return client;
};
const healthyStore = new DynamoDbTaskStore(documentClient(), tableName);
const sqs = createSqsClient();
clients.push(sqs);
let queueUrl: string;
let queue: SqsTaskQueue;

beforeAll(async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `failure-paths-it-${randomUUID()}` }));
  queueUrl = QueueUrl!;
  queue = new SqsTaskQueue(sqs, queueUrl);
});
afterAll(() => clients.forEach((client) => client.destroy()));

const input = { title: 'failure path', description: 'integration', metadata: {} };

describe('time budgets', () => {
  it('answers 503 with Retry-After before its timeout when SQS never answers, and fails the stored task', async () => {
    const silent = await silentEndpoint();
    try {
      const silentSqs = createSqsClient(undefined, silent.endpoint);
      clients.push(silentSqs);
      const id = randomUUID();
      const service = createTaskService({ store: healthyStore, queue: new SqsTaskQueue(silentSqs, queueUrl), clock: systemClock, logger: silentLogger, newId: () => id });
      // 3 s left of a 10 s function: the SDK alone would retry for about 12 s.
      const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 3_000 };
      const response = await createSubmitHandler(service, simulatedKinds(0))(jsonPost(input), context);
      expect(response.statusCode).toBe(503);
      expect(response.headers?.['Retry-After']).toBe('5');
      expect(JSON.parse(response.body).error.code).toBe('SERVICE_UNAVAILABLE');
      expect(await healthyStore.get(id)).toMatchObject({ status: 'FAILED', error: { code: 'ENQUEUE_FAILED' } });
    } finally {
      await silent.close();
    }
  });
});

describe('a batch submit that fails part-way', () => {
  it('runs none of its tasks: a later store chunk refused leaves no task PENDING', async () => {
    let batchWrites = 0;
    const store = new DynamoDbTaskStore(documentClient((operation) => operation === 'BatchWriteItem' && ++batchWrites === 2), tableName);
    const ids: string[] = [];
    const service = createTaskService({
      store,
      queue,
      clock: systemClock,
      logger: silentLogger,
      newId: () => {
        ids.push(randomUUID());
        return ids.at(-1)!;
      },
    });
    await expect(service.submitBatch(Array.from({ length: 30 }, () => input))).rejects.toThrow(/unavailable/);
    const statuses = await healthyStore.getStatuses(ids);
    for (const id of ids) expect([undefined, 'FAILED']).toContain(statuses.get(id));
    expect([...statuses.values()].filter((status) => status === 'FAILED').length).toBeGreaterThanOrEqual(25);
  });

  /**
   * Submits a batch of 30 to `table` whose second store chunk and every status write are refused
   * (the submit can mark nothing), its messages sent through `sqsClient`: the batch's task ids, the
   * ones stored (all still PENDING), and its queue.
   */
  async function submitRefusedBatch(table: string, sqsClient: SQSClient) {
    let batchWrites = 0;
    const store = new DynamoDbTaskStore(documentClient((operation) => (operation === 'BatchWriteItem' && ++batchWrites === 2) || operation === 'UpdateItem'), table);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `failure-paths-refused-${randomUUID()}` }));
    const ids: string[] = [];
    const newId = () => {
      ids.push(randomUUID());
      return ids.at(-1)!;
    };
    const service = createTaskService({ store, queue: new SqsTaskQueue(sqsClient, QueueUrl!), clock: systemClock, logger: silentLogger, newId });
    await expect(service.submitBatch(Array.from({ length: 30 }, () => input))).rejects.toThrow(/unavailable/);
    const taskIds = ids.slice(0, 30); // the tasks' ids are drawn first, then the batch's
    const stored = [...(await new DynamoDbTaskStore(documentClient(), table).getStatuses(taskIds)).entries()];
    expect(stored.length).toBeGreaterThanOrEqual(25);
    expect(stored.every(([, status]) => status === 'PENDING')).toBe(true);
    return { taskIds, storedIds: stored.map(([id]) => id), queueUrl: QueueUrl! };
  }

  /** Gives every message in `queueUrl` to a processor working on `table`: the task ids of the messages. */
  async function processEveryMessage(queueUrl: string, table: string): Promise<string[]> {
    const store = new DynamoDbTaskStore(documentClient(), table);
    const processor = createTaskProcessor({ store, queue: new SqsTaskQueue(sqs, queueUrl), clock: systemClock, logger: silentLogger, kinds: simulatedKinds(0), leaseSeconds: 30, cancelPollMs: 100, retryBaseDelaySeconds: 0, maxReceiveCount: 3 });
    const handed: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
      if (Messages.length === 0) return [...new Set(handed)].sort();
      for (const message of Messages) {
        handed.push(JSON.parse(message.Body!).task_id);
        await processor.process({ body: message.Body!, receiptHandle: message.ReceiptHandle!, receiveCount: 1 });
      }
    }
  }

  const expectFailedAsNotAccepted = async (table: string, taskIds: string[]) => {
    const after = await new DynamoDbTaskStore(documentClient(), table).getSummaries(taskIds);
    expect(after.map((task) => [task.status, task.error?.code])).toEqual(taskIds.map(() => ['FAILED', 'BATCH_NOT_ACCEPTED']));
  };

  it('hands its tasks to the processors when the store will not mark them FAILED, and a processor fails each from its message', async () => {
    const { taskIds, storedIds, queueUrl } = await submitRefusedBatch(tableName, sqs);
    // Every task of the batch got its message, the unstored ones too (a processor finds no task and drops it).
    expect(await processEveryMessage(queueUrl, tableName)).toEqual([...taskIds].sort());
    await expectFailedAsNotAccepted(tableName, storedIds);
  });

  it('keeps the messages with its abort when the queue refuses them too, and the dispatcher hands them over at its next run', async () => {
    // A table of its own: the stack's dispatcher would take the hand-off from the shared one first.
    const table = await createTableLike(documentClient(), tableName, `handoff-it-${randomUUID()}`);
    const refusingSqs = createSqsClient();
    failCalls(refusingSqs, (operation) => operation === 'SendMessageBatch' || operation === 'SendMessage');
    clients.push(refusingSqs);
    const { taskIds, storedIds, queueUrl } = await submitRefusedBatch(table, refusingSqs);
    const { Messages: none = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(none).toEqual([]);

    const dispatch = createDueTaskDispatcher({ store: new DynamoDbTaskStore(documentClient(), table), queue: new SqsTaskQueue(sqs, queueUrl), clock: systemClock, logger: silentLogger, limit: 100 });
    expect(await dispatch()).toEqual({ dispatched: 0, handedOff: 30 });
    expect(await dispatch()).toEqual({ dispatched: 0, handedOff: 0 });
    expect(await processEveryMessage(queueUrl, table)).toEqual([...taskIds].sort());
    await expectFailedAsNotAccepted(table, storedIds);
  });
});

describe('an idempotent submit whose enqueue fails', () => {
  it('keeps its key while the task could not be marked FAILED: a retry answers the same task, never a second one', async () => {
    // The queue does not exist and the store refuses the FAILED marking (an UpdateItem).
    const store = new DynamoDbTaskStore(documentClient((operation) => operation === 'UpdateItem'), tableName);
    const missingQueue = new SqsTaskQueue(sqs, `${queueUrl}-missing`);
    const id = randomUUID();
    const service = createTaskService({ store, queue: missingQueue, clock: systemClock, logger: silentLogger, newId: () => id });
    const key = `it-${randomUUID()}`;
    await expect(service.submit(input, key)).rejects.toThrow(/unavailable/);
    expect(await healthyStore.get(id)).toMatchObject({ status: 'PENDING' });
    const retried = await createTaskService({ store: healthyStore, queue, clock: systemClock, logger: silentLogger }).submit(input, key);
    expect(retried.task_id).toBe(id);
  });
});

describe('the dead-letter consumer', () => {
  it('never fails a task that a live worker holds', async () => {
    const id = randomUUID();
    await healthyStore.create(newTask(input, id, new Date()));
    await healthyStore.transition(id, { to: 'PROCESSING', at: new Date(), leaseExpiresAt: new Date(Date.now() + 30_000), maxAttempts: 3 });
    const processor = createTaskProcessor({
      store: healthyStore,
      queue,
      clock: systemClock,
      logger: silentLogger,
      kinds: simulatedKinds(0),
      leaseSeconds: 30,
      cancelPollMs: 100,
      retryBaseDelaySeconds: 0,
      maxReceiveCount: 3,
    });
    const record = sqsRecord(JSON.stringify({ task_id: id }), 4);
    expect(await createDeadLetterHandler(processor)(sqsEvent([record]), lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: record.messageId }],
    });
    expect(await healthyStore.get(id)).toMatchObject({ status: 'PROCESSING', error: null });
  });
});

describe('the stale task sweeper', () => {
  it('reaches a lost task behind a backlog in another shard, and sends a waiting task once per stale period', async () => {
    // A table of its own: the stack's own sweeper runs on the wall clock and would take these
    // long-stale tasks too (and the processor finish them), whenever its schedule falls in the test.
    const client = documentClient();
    const store = new DynamoDbTaskStore(client, await createTableLike(client, tableName, `sweeper-it-${randomUUID()}`));
    const base = Date.UTC(2020, 0, 1);
    const inShard = (hex: string) => hex + randomUUID().slice(1);
    const waiting = Array.from({ length: 6 }, () => inShard('0'));
    const lost = inShard('f');
    for (const [index, id] of [...waiting, lost].entries()) await store.create(newTask(input, id, new Date(base + index * 1_000)));
    const clock = new ManualClock(new Date(base + 3_600_000));
    const sent = new InMemoryTaskQueue();
    const sweep = createStaleTaskSweeper({ store, queue: sent, clock, logger: silentLogger, staleAfterSeconds: 600, limit: 3 });

    const runs = [];
    for (let run = 0; run < 3; run++) {
      runs.push(await sweep());
      clock.advance(60_000);
    }
    const ids = sent.messages.map((message) => message.task_id);
    expect(ids).toContain(lost);
    expect(new Set(ids).size).toBe(ids.length);
    expect(runs.map((run) => run.requeued)).toEqual([3, 3, 1]);
  });
});
