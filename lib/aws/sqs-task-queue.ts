import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyUnavailableError } from '#lib/errors';
import { callDependency } from './dependency-call';

import type { TaskMessage } from '#lib/tasks/model';
import type { TaskQueue } from '#lib/tasks/ports';

/** SendMessageBatch takes at most ten entries. */
const SQS_BATCH_LIMIT = 10;
/** Entries SQS reports as failed in a batch are sent again, with backoff, this many times in all. */
const MAX_BATCH_ATTEMPTS = 4;
const BATCH_RETRY_BASE_MS = 50;

/** The SQS implementation of the task queue. */
export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(message: TaskMessage): Promise<void> {
    await callDependency('task queue', () =>
      this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) })),
    );
  }

  async enqueueAll(messages: TaskMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += SQS_BATCH_LIMIT) {
      let entries = messages.slice(start, start + SQS_BATCH_LIMIT).map((message, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify(message),
      }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        const { Failed } = await callDependency('task queue', () =>
          this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })),
        );
        const failedIds = new Set((Failed ?? []).map((failure) => failure.Id));
        entries = entries.filter((entry) => failedIds.has(entry.Id));
        if (entries.length > 0 && attempt >= MAX_BATCH_ATTEMPTS) {
          throw new DependencyUnavailableError('task queue', { cause: Failed });
        }
        if (entries.length > 0) await sleep(BATCH_RETRY_BASE_MS * 2 ** attempt);
      }
    }
  }

  async retryAfter(receiptHandle: string, delaySeconds: number): Promise<void> {
    await callDependency('task queue', () =>
      this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: delaySeconds,
        }),
      ),
    );
  }

  async ping(): Promise<void> {
    await callDependency('task queue', () =>
      this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] })),
    );
  }

}
