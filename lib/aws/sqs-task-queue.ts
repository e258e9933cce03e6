import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { chunks, sendChunks, sendUntilDone } from './batch-retry';
import { callDependency } from './dependency-call';
import { currentTrace } from '#lib/trace';
import type { TaskMessage } from '#lib/tasks/model';
import type { TaskQueue } from '#lib/tasks/ports';
import { queueDelaySeconds } from '#lib/tasks/schedule';
import { systemClock, type Clock } from '#lib/clock';

/** SendMessageBatch takes at most ten entries. */
const SQS_BATCH_LIMIT = 10;

/** The message attribute that carries the W3C trace of the request that queued the task. */
export const TRACEPARENT_ATTRIBUTE = 'traceparent';

/** The current trace, as the attributes of a message sent now. */
function traceAttributes() {
  const trace = currentTrace();
  return trace ? { MessageAttributes: { [TRACEPARENT_ATTRIBUTE]: { DataType: 'String', StringValue: trace.traceparent } } } : {};
}

/** The SQS implementation of the task queue. */
export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** A delayed task's message waits in the queue until its run_at, up to SQS's 15 minutes (the dispatcher sends later ones). */
  private delayOf(message: TaskMessage) {
    const delay = queueDelaySeconds(message.run_at, this.clock.now());
    return delay > 0 ? { DelaySeconds: delay } : {};
  }

  async enqueue(message: TaskMessage): Promise<void> {
    await callDependency('task queue', () =>
      this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), ...this.delayOf(message), ...traceAttributes() })),
    );
  }

  async enqueueAll(messages: TaskMessage[]): Promise<void> {
    const attributes = traceAttributes();
    await sendChunks(chunks(messages, SQS_BATCH_LIMIT), (chunk) =>
      sendUntilDone(
        'task queue',
        chunk.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message), ...this.delayOf(message), ...attributes })),
        async (entries) => {
          const { Failed } = await callDependency('task queue', () =>
            this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries })),
          );
          const failedIds = new Set((Failed ?? []).map((failure) => failure.Id));
          return entries.filter((entry) => failedIds.has(entry.Id));
        },
      ),
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
