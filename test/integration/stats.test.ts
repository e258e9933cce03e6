import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { createDocumentClient, createSqsClient } from '#lib/aws/clients';
import { SqsQueueGauge } from '#lib/aws/sqs-queue-gauge';
import { newTask, type StatusCounts, type Task } from '#lib/tasks/model';
import { ownTaskStore } from '../support/own-table';
import { stackEnv, testTimeoutMs } from '../support/stack-env';

const { tableName } = stackEnv();
const client = createDocumentClient();
const sqs = createSqsClient();
afterAll(() => {
  client.destroy();
  sqs.destroy();
});

const at = (offsetMs = 0) => new Date(Date.UTC(2026, 11, 1, 9, 0, 0) + offsetMs);
const counts = (partial: Partial<StatusCounts>): StatusCounts => ({ PENDING: 0, PROCESSING: 0, COMPLETED: 0, FAILED: 0, CANCELED: 0, ...partial });

describe('task counts from the status index (DynamoDB Local)', () => {
  // A table of its own: the shared stack's suites and sweeper move tasks in theirs at any moment.
  const own = ownTaskStore(client, tableName, 'counts-it');

  it(
    'counts 10,000 tasks exactly as they move through every status, large payloads (items of their own) not counted twice',
    async () => {
      const TASKS = 10_000;
      const FIFTH = TASKS / 5;
      const tasks: Task[] = Array.from({ length: TASKS }, (_, n) =>
        // One in ten has a payload kept in an item of its own: that item is in no index.
        newTask({ title: `t${n}`, description: 'd', metadata: {}, payload: n % 10 === 0 ? 'x'.repeat(2_000) : n }, randomUUID(), at(n)),
      );
      const limit = pLimit(20);
      for (let start = 0; start < TASKS; start += 100) await own.store.createMany(tasks.slice(start, start + 100));
      expect(await own.store.countByStatus()).toEqual(counts({ PENDING: TASKS }));

      const move = async (slice: Task[], apply: (task: Task) => Promise<{ applied: boolean }>) => {
        const results = await Promise.all(slice.map((task) => limit(() => apply(task))));
        expect(results.every((result) => result.applied)).toBe(true);
      };
      // Four fifths are claimed; of those, a fifth each completes, fails and is canceled.
      const claimed = tasks.slice(FIFTH);
      await move(claimed, (task) => own.store.transition(task.task_id, { to: 'PROCESSING', at: at(TASKS), leaseExpiresAt: at(TASKS + 60_000), maxAttempts: 3 }));
      expect(await own.store.countByStatus()).toEqual(counts({ PENDING: FIFTH, PROCESSING: 4 * FIFTH }));

      const [completed, failed, canceled] = [0, 1, 2].map((n) => claimed.slice(n * FIFTH, (n + 1) * FIFTH)) as [Task[], Task[], Task[]];
      await move(completed, (task) => own.store.transition(task.task_id, { to: 'COMPLETED', at: at(TASKS + 1), attempt: 1, result: { ok: true } }));
      await move(failed, (task) => own.store.transition(task.task_id, { to: 'FAILED', at: at(TASKS + 1), attempt: 1, error: { code: 'PROCESSING_FAILED', message: 'boom' } }));
      await move(canceled, (task) => own.store.transition(task.task_id, { to: 'CANCELED', at: at(TASKS + 1) }));
      expect(await own.store.countByStatus()).toEqual({ PENDING: FIFTH, PROCESSING: FIFTH, COMPLETED: FIFTH, FAILED: FIFTH, CANCELED: FIFTH });
    },
    testTimeoutMs(180_000),
  );
});

describe('queue depth from SQS attributes (the SQS emulator)', () => {
  it('reports waiting, in-flight and delayed messages', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `gauge-it-${randomUUID()}` }));
    const gauge = new SqsQueueGauge(sqs, QueueUrl!);
    try {
      expect(await gauge.depth()).toEqual({ waiting: 0, inFlight: 0, delayed: 0 });
      for (const n of [1, 2, 3]) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: String(n) }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 900 }));
      expect(await gauge.depth()).toEqual({ waiting: 3, inFlight: 0, delayed: 1 });
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 900 }));
      expect(Messages).toHaveLength(1);
      // Not `waiting`: the emulator (local-aws-sqs) still counts a received message there, SQS does not.
      expect(await gauge.depth()).toMatchObject({ inFlight: 1, delayed: 1 });
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  });
});
