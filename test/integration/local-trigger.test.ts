import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createSqsClient } from '#lib/aws/clients';
import { redriveDeadLetters } from '#lib/aws/redrive';
import { startQueueTrigger, type BatchInvoker, type QueueTrigger } from '../../local/trigger';
import { eventually } from '../support/stack-env';

const sqs: SQSClient = createSqsClient();
let trigger: QueueTrigger | undefined;
afterEach(async () => {
  await trigger?.stop();
  trigger = undefined;
});
afterAll(() => sqs.destroy());

async function queuePair(visibilityTimeout = 1) {
  const suffix = randomUUID().slice(0, 8);
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `trigger-it-dlq-${suffix}` }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }));
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: `trigger-it-${suffix}`,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeout),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 3 }),
      },
    }),
  );
  return { url: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

async function send(queueUrl: string, bodies: string[]) {
  await sqs.send(
    new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })) }),
  );
}

function start(queueUrl: string, invoke: BatchInvoker, maxConcurrency = 2) {
  trigger = startQueueTrigger({
    sqs,
    queueUrl,
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:trigger-it',
    region: 'us-east-1',
    invoke,
    batchSize: 10,
    batchingWindowSeconds: 0,
    maxConcurrency,
    reportBatchItemFailures: true,
  });
}

describe('the local SQS trigger', () => {
  it('invokes with real SQSEvent batches and deletes only what the function did not report as failed', async () => {
    const { url, dlqUrl } = await queuePair();
    const deliveries = new Map<string, number[]>();
    start(url, async (event: SQSEvent) => {
      for (const record of event.Records) {
        expect(record).toMatchObject({ eventSource: 'aws:sqs', messageId: expect.any(String), receiptHandle: expect.any(String) });
        const counts = deliveries.get(record.body) ?? [];
        counts.push(Number(record.attributes.ApproximateReceiveCount));
        deliveries.set(record.body, counts);
      }
      return { batchItemFailures: event.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await send(url, ['ok-1', 'poison', 'ok-2']);

    // The poison record comes back after each visibility timeout, then goes to the DLQ.
    const dead = await eventually(async () => {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
      return Messages?.length ? Messages : undefined;
    }, 20_000, 200);
    expect(dead.map((m) => m.Body)).toEqual(['poison']);
    expect(deliveries.get('poison')).toEqual([1, 2, 3]);
    // Acknowledged records were deleted: delivered once, never again.
    expect(deliveries.get('ok-1')).toEqual([1]);
    expect(deliveries.get('ok-2')).toEqual([1]);
  });

  it('leaves the whole batch in the queue when the invocation itself fails', async () => {
    const { url } = await queuePair();
    let calls = 0;
    const seen: string[] = [];
    start(url, async (event) => {
      calls++;
      seen.push(...event.Records.map((r) => r.body));
      if (calls === 1) throw new Error('function crashed');
      return { batchItemFailures: [] };
    }, 1);
    await send(url, ['a', 'b']);
    await eventually(async () => (calls >= 2 ? true : undefined), 10_000, 100);
    expect(seen.filter((b) => b === 'a')).toHaveLength(2);
    expect(seen.filter((b) => b === 'b')).toHaveLength(2);
  });

  it('receives nothing while paused, and everything sent meanwhile once resumed, as first deliveries', async () => {
    const { url } = await queuePair(30);
    const handled: Array<{ body: string; receiveCount: string }> = [];
    start(url, async (event) => {
      handled.push(...event.Records.map((r) => ({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount })));
      return { batchItemFailures: [] };
    });
    // The long poll waiting when paused takes these: it gives them back at once (visible, and no receive counted).
    trigger!.pause();
    await send(url, ['p1', 'p2']);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(handled).toEqual([]);
    trigger!.resume();
    await eventually(async () => (handled.length >= 2 ? true : undefined), 10_000, 50);
    expect(handled.sort((a, b) => a.body.localeCompare(b.body))).toEqual([
      { body: 'p1', receiveCount: '1' },
      { body: 'p2', receiveCount: '1' },
    ]);
  });

  it('runs several batches at once, up to its maximum concurrency', async () => {
    const { url } = await queuePair(30);
    let inFlight = 0;
    let peak = 0;
    let handled = 0;
    start(url, async (event) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 300));
      inFlight--;
      handled += event.Records.length;
      return { batchItemFailures: [] };
    }, 3);
    await send(url, Array.from({ length: 10 }, (_, i) => `m${i}`));
    await send(url, Array.from({ length: 10 }, (_, i) => `n${i}`));
    await send(url, Array.from({ length: 10 }, (_, i) => `o${i}`));
    await eventually(async () => (handled >= 30 ? true : undefined), 10_000, 50);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
  });
});

describe('redriving the dead-letter queue', () => {
  it('moves every dead letter back to the task queue, and empties the dead-letter queue', async () => {
    const { url, dlqUrl } = await queuePair(30);
    const bodies = Array.from({ length: 23 }, (_, i) => JSON.stringify({ task_id: `dead-${i}` }));
    for (let i = 0; i < bodies.length; i += 10) await send(dlqUrl, bodies.slice(i, i + 10));
    expect(await redriveDeadLetters(sqs, dlqUrl, url)).toBe(23);
    const received: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      if (Messages.length === 0) break;
      received.push(...Messages.map((m) => m.Body!));
    }
    expect(received.sort()).toEqual([...bodies].sort());
    const { Messages: left = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
    expect(left).toHaveLength(0);
  });
});
