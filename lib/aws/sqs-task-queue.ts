import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { callDependency } from './dependency-call';
import type { TaskMessage } from '#lib/tasks/model';
import type { TaskQueue } from '#lib/tasks/ports';

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
