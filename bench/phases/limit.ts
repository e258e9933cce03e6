import { DEFAULT_DISPATCH_AHEAD_SECONDS } from '#lib/tasks/schedule';
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { EmbeddedStack } from '../../local/embedded-stack';
import { createTableLike } from '../../local/resources';
import { statusShard } from '#lib/aws/list-indexes';
import { toItems } from '#lib/aws/task-item';
import { DEFAULT_RETENTION_DAYS } from '#lib/aws/dynamodb-task-store';
import { newTask, type TaskStatus } from '#lib/tasks/model';
import { emulatorClients } from '../../local/emulator-clients';
import { log, sleep, type BenchSettings } from '../common';

/**
 * 1. The limit: the minimal calls per task, straight against the emulators, at the best concurrency
 * tried. It writes to a copy of the tasks table (same keys, same status index) and items carry the
 * index's key as the service's do, so DynamoDB Local does the same work for both.
 */
async function limitResources(stack: EmbeddedStack) {
  const clients = emulatorClients(stack, 4_000);
  const { dynamo, sqs } = clients;
  const table = `bench-limit-${Date.now()}`;
  await createTableLike(dynamo, stack.env.TASKS_TABLE!, table);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: table }));

  /** One "batch" of 10 tasks: put and send each, receive 10, claim each, work `workMs`, complete each, delete 10. Answers how many it finished. */
  async function batch(workMs: number): Promise<number> {
    const ids = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(
      ids.map(async (id) => {
        await dynamo.send(new PutCommand({ TableName: table, Item: toItems(newTask({ title: 'limit', description: 'd', metadata: {} }, id, new Date()), DEFAULT_RETENTION_DAYS, DEFAULT_DISPATCH_AHEAD_SECONDS).item, ConditionExpression: 'attribute_not_exists(task_id)' }));
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: id }));
      }),
    );
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    const move = (id: string, from: TaskStatus, to: TaskStatus) =>
      dynamo.send(
        new UpdateCommand({
          TableName: table,
          Key: { task_id: id },
          UpdateExpression: 'SET #s = :to, status_shard = :shard',
          ConditionExpression: '#s = :from',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':from': from, ':to': to, ':shard': statusShard(to, id) },
        }),
      );
    await Promise.all(
      Messages.map(async (message) => {
        await move(message.Body!, 'PENDING', 'PROCESSING');
        if (workMs > 0) await sleep(workMs);
        await move(message.Body!, 'PROCESSING', 'COMPLETED');
      }),
    );
    if (Messages.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
    return Messages.length;
  }

  async function close() {
    await dynamo.send(new DeleteTableCommand({ TableName: table }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    clients.destroy();
  }
  return { batch, close };
}

export async function measureLimit(stack: EmbeddedStack, { phaseMs }: BenchSettings) {
  const limit = await limitResources(stack);
  const results: Array<{ workers: number; tasksPerSecond: number }> = [];
  for (const workers of [25, 50, 100]) {
    let done = 0;
    const deadline = Date.now() + phaseMs;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (Date.now() < deadline) done += await limit.batch(0);
      }),
    );
    results.push({ workers, tasksPerSecond: done / (phaseMs / 1000) });
    log(`limit with ${workers} workers: ${(done / (phaseMs / 1000)).toFixed(0)} tasks/s`);
  }
  await limit.close();
  return results.reduce((best, r) => (r.tasksPerSecond > best.tasksPerSecond ? r : best));
}

/**
 * 1b. The limit at the end-to-end run's own shape: tasks tasks with their work time, as batches of
 * 10 with at most concurrency batches in flight, through the minimal calls and nothing else.
 * The end-to-end wall time is compared with this one: the cost of the service's own machinery.
 */
export async function measureLimitInFlight(stack: EmbeddedStack, { tasks, workMs, concurrency }: BenchSettings) {
  const limit = await limitResources(stack);
  let started = 0;
  const begin = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < tasks) {
        started += 10;
        await limit.batch(workMs);
      }
    }),
  );
  const wallSeconds = (Date.now() - begin) / 1000;
  await limit.close();
  log(`limit in flight: ${tasks} tasks of ${workMs} ms, ${concurrency} batches at once, in ${wallSeconds.toFixed(1)} s`);
  return { tasks, batchesInFlight: concurrency, wallSeconds };
}
