import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunks, sendChunks, sendUntilDone } from './batch-retry';
import { callDependency } from './dependency-call';
import type { CallbackDelivery } from '#lib/tasks/completion-events';
import type { CallbackQueue } from '#lib/tasks/ports';

const SQS_BATCH_LIMIT = 10;

/** The SQS implementation of the callback queue: its trigger is the deliverer; a hidden message is a callback waiting out its backoff. */
export class SqsCallbackQueue implements CallbackQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueueAll(deliveries: CallbackDelivery[]): Promise<void> {
    await sendChunks(chunks(deliveries, SQS_BATCH_LIMIT), (chunk) =>
      sendUntilDone(
        'callback queue',
        chunk.map((delivery, index) => ({ Id: String(index), MessageBody: JSON.stringify(delivery) })),
        async (entries) => {
          const { Failed } = await callDependency('callback queue', () =>
            this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })),
          );
          const failedIds = new Set((Failed ?? []).map((failure) => failure.Id));
          return entries.filter((entry) => failedIds.has(entry.Id));
        },
      ),
    );
  }

  async retryAfter(receiptHandle: string, delaySeconds: number): Promise<void> {
    await callDependency('callback queue', () =>
      this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: delaySeconds })),
    );
  }
}
