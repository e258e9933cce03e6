import { randomUUID } from 'node:crypto';
import { createDocumentClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { systemClock } from '#lib/clock';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, silentLogger } from '../support/fakes';
import { stackEnv } from '../support/stack-env';

const client = createDocumentClient();
const store = new DynamoDbTaskStore(client, stackEnv().tableName);
afterAll(() => client.destroy());

describe('idempotency keys against DynamoDB Local', () => {
  it('creates exactly one task for 10 concurrent submits with the same key and body', async () => {
    const queue = new InMemoryTaskQueue();
    const service = createTaskService({ store, queue, clock: systemClock, logger: silentLogger });
    const key = `concurrent-${randomUUID()}`;
    const input = { title: 'once', description: 'only once', metadata: {} };
    const answers = await Promise.all(Array.from({ length: 10 }, () => service.submit(input, key)));
    const ids = new Set(answers.map((a) => a.task_id));
    expect(ids.size).toBe(1);
    expect(queue.messages).toHaveLength(1);
    expect(await store.get([...ids][0]!)).toMatchObject({ title: 'once', status: 'PENDING' });
  });

  it('refuses a reuse with another body, and frees a released key', async () => {
    const service = createTaskService({ store, queue: new InMemoryTaskQueue(), clock: systemClock, logger: silentLogger });
    const key = `reuse-${randomUUID()}`;
    const first = await service.submit({ title: 'a', description: 'd', metadata: {} }, key);
    await expect(service.submit({ title: 'b', description: 'd', metadata: {} }, key)).rejects.toThrow(/different request body/);
    await store.releaseIdempotencyKey(key, first.task_id);
    const second = await service.submit({ title: 'b', description: 'd', metadata: {} }, key);
    expect(second.task_id).not.toBe(first.task_id);
  });
});

describe('batched writes against DynamoDB Local and the SQS emulator', () => {
  it('stores 60 tasks in batches of 25 and reads every one back', async () => {
    const service = createTaskService({ store, queue: new InMemoryTaskQueue(), clock: systemClock, logger: silentLogger });
    const inputs = Array.from({ length: 60 }, (_, n) => ({ title: `batch ${n}`, description: 'd', metadata: {}, payload: n }));
    const { tasks } = await service.submitBatch(inputs);
    const stored = await Promise.all(tasks.map((t) => store.get(t.task_id)));
    expect(stored.map((t) => t?.payload)).toEqual(inputs.map((i) => i.payload));
  });
});
