import { randomUUID } from 'node:crypto';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { createHandler } from '#functions/process-tasks';
import { createDocumentClient, createSqsClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { SqsTaskQueue } from '#lib/aws/sqs-task-queue';
import { systemClock } from '#lib/clock';
import { TaskNotCancelableError } from '#lib/tasks/errors';
import { createTaskProcessor } from '#lib/tasks/processing';
import { createTaskService } from '#lib/tasks/service';
import { silentLogger, simulatedKinds } from '../support/fakes';
import { lambdaContext, sqsEvent, sqsRecord } from '../support/events';
import { eventually, stackEnv } from '../support/stack-env';

const { tableName } = stackEnv();
const documentClient = createDocumentClient();
const sqsClient = createSqsClient();
const store = new DynamoDbTaskStore(documentClient, tableName);
// Messages this suite sends go to a queue of its own, so the stack's trigger does not race it.
const queueName = `processor-it-${randomUUID()}`;
let queue: SqsTaskQueue;

const WORK_MS = 600;
const processor = () =>
  createTaskProcessor({
    store,
    queue,
    clock: systemClock,
    logger: silentLogger,
    kinds: simulatedKinds(WORK_MS),
    leaseSeconds: 30,
    cancelPollMs: 50,
    retryBaseDelaySeconds: 0,
    maxReceiveCount: 3,
  });
const service = () => createTaskService({ store, queue, clock: systemClock, logger: silentLogger });
const submit = () => service().submit({ title: 'job', description: 'integration', metadata: {}, payload: 'abc' });
const message = (taskId: string) => sqsRecord(JSON.stringify({ task_id: taskId }));

beforeAll(async () => {
  const { QueueUrl } = await sqsClient.send(new CreateQueueCommand({ QueueName: queueName }));
  queue = new SqsTaskQueue(sqsClient, QueueUrl!);
});
const statusOf = async (taskId: string) => (await store.getStatuses([taskId])).get(taskId);

afterAll(() => {
  documentClient.destroy();
  sqsClient.destroy();
});

describe('the processor against DynamoDB Local', () => {
  it('completes a batch of tasks concurrently', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => submit().then((t) => t.task_id)));
    const started = Date.now();
    const response = await createHandler(processor())(sqsEvent(ids.map(message)), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    // Five jobs of WORK_MS each, worked at once.
    expect(Date.now() - started).toBeLessThan(WORK_MS * 3);
    for (const id of ids) {
      expect(await store.get(id)).toMatchObject({ status: 'COMPLETED', attempts: 1, result: { payload_bytes: 5 } });
    }
  });

  it('reports an unknown task id as a failed record, and completes the rest', async () => {
    const { task_id } = await submit();
    const poison = message(randomUUID());
    const response = await createHandler(processor())(sqsEvent([message(task_id), poison]), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: poison.messageId }] });
    expect(await statusOf(task_id)).toBe('COMPLETED');
  });

  it('cancels a PENDING task, which the processor then leaves alone', async () => {
    const { task_id } = await submit();
    expect(await service().cancel(task_id)).toMatchObject({ status: 'CANCELED' });
    const response = await createHandler(processor())(sqsEvent([message(task_id)]), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(await store.get(task_id)).toMatchObject({ status: 'CANCELED', attempts: 0, started_at: null });
  });

  it('keeps a task canceled during PROCESSING as CANCELED, and stops its work early', async () => {
    const { task_id } = await submit();
    const started = Date.now();
    const running = createHandler(processor())(sqsEvent([message(task_id)]), lambdaContext());
    await eventually(async () => ((await statusOf(task_id)) === 'PROCESSING' ? true : undefined), 5_000, 5);
    await service().cancel(task_id);
    expect(await running).toEqual({ batchItemFailures: [] });
    expect(Date.now() - started).toBeLessThan(WORK_MS);
    expect(await store.get(task_id)).toMatchObject({ status: 'CANCELED', completed_at: null, result: null });
  });

  it('refuses to cancel a COMPLETED task', async () => {
    const { task_id } = await submit();
    await createHandler(processor())(sqsEvent([message(task_id)]), lambdaContext());
    await expect(service().cancel(task_id)).rejects.toBeInstanceOf(TaskNotCancelableError);
    expect(await statusOf(task_id)).toBe('COMPLETED');
  });
});
