import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '#lib/aws/clients';
import { SqsTaskQueue } from '#lib/aws/sqs-task-queue';
import type { TaskMessage } from '#lib/tasks/model';
import '../support/stack-env';

const sqs = createSqsClient();
const urls: string[] = [];
const createQueue = async (lane: string) => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `lanes-${lane}-${randomUUID().slice(0, 8)}` }));
  urls.push(QueueUrl!);
  return QueueUrl!;
};
afterAll(async () => {
  await Promise.all(urls.map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))));
  sqs.destroy();
});

/** Everything a queue holds now, as task ids, with the receipt handles. */
async function drain(QueueUrl: string) {
  const received: Array<{ taskId: string; receipt: string }> = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    if (Messages.length === 0) return received;
    received.push(...Messages.map((message) => ({ taskId: (JSON.parse(message.Body!) as TaskMessage).task_id, receipt: message.ReceiptHandle! })));
  }
}

describe('priority lanes on the SQS emulator', () => {
  it('sends a high message to the high lane’s queue and every other to the normal one, single and batched, and sets a retry delay in its own lane', async () => {
    const [normalUrl, highUrl] = await Promise.all([createQueue('normal'), createQueue('high')]);
    const queue = new SqsTaskQueue(sqs, normalUrl, { highPriorityQueueUrl: highUrl });
    const messages: TaskMessage[] = Array.from({ length: 23 }, (_, n) => ({ task_id: randomUUID(), kind: 'simulated', ...(n % 3 === 0 ? { priority: 'high' as const } : {}) }));
    await queue.enqueueAll(messages.slice(0, 22));
    await queue.enqueue(messages[22]!);
    const [normal, high] = await Promise.all([drain(normalUrl), drain(highUrl)]);
    expect(high.map((m) => m.taskId).sort()).toEqual(messages.filter((m) => m.priority === 'high').map((m) => m.task_id).sort());
    expect(normal.map((m) => m.taskId).sort()).toEqual(messages.filter((m) => m.priority !== 'high').map((m) => m.task_id).sort());

    await expect(queue.retryAfter(high[0]!.receipt, 1, 'high')).resolves.toBeUndefined();
    // A receipt is its own queue's: the lane decides where the retry delay is set.
    await expect(queue.retryAfter(high[1]!.receipt, 1)).rejects.toThrow();
  });
});
