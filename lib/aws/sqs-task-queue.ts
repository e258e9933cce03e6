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
import type { TaskMessage, TaskPriority } from '#lib/tasks/model';
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

/**
 * The SQS implementation of the task queue: a queue per lane. A `high` message goes to its own
 * queue, whose trigger has a concurrency of its own, so a backlog of normal work never stands
 * before it; without a high-priority queue (scripts, benches) every message goes to the one queue.
 */
export class SqsTaskQueue implements TaskQueue {
  private readonly clock: Clock;
  private readonly highPriorityQueueUrl: string;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    { clock = systemClock, highPriorityQueueUrl = queueUrl }: { clock?: Clock; highPriorityQueueUrl?: string } = {},
  ) {
    this.clock = clock;
    this.highPriorityQueueUrl = highPriorityQueueUrl;
  }

  private urlOf(priority: TaskPriority | undefined): string {
    return priority === 'high' ? this.highPriorityQueueUrl : this.queueUrl;
  }

  /** A delayed task's message waits in the queue until its run_at, up to SQS's 15 minutes (the dispatcher sends later ones). */
  private delayOf(message: TaskMessage) {
    const delay = queueDelaySeconds(message.run_at, this.clock.now());
    return delay > 0 ? { DelaySeconds: delay } : {};
  }

  async enqueue(message: TaskMessage): Promise<void> {
    await callDependency('task queue', () =>
      this.client.send(new SendMessageCommand({ QueueUrl: this.urlOf(message.priority), MessageBody: JSON.stringify(message), ...this.delayOf(message), ...traceAttributes() })),
    );
  }

  async enqueueAll(messages: TaskMessage[]): Promise<void> {
    const attributes = traceAttributes();
    const lanes = [messages.filter((message) => message.priority !== 'high'), messages.filter((message) => message.priority === 'high')];
    const batches = lanes.flatMap((lane) => chunks(lane, SQS_BATCH_LIMIT));
    await sendChunks(batches, (chunk) =>
      sendUntilDone(
        'task queue',
        chunk.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message), ...this.delayOf(message), ...attributes })),
        async (entries) => {
          const { Failed } = await callDependency('task queue', () =>
            this.client.send(new SendMessageBatchCommand({ QueueUrl: this.urlOf(chunk[0]?.priority), Entries: entries })),
          );
          const failedIds = new Set((Failed ?? []).map((failure) => failure.Id));
          return entries.filter((entry) => failedIds.has(entry.Id));
        },
      ),
    );
  }

  async retryAfter(receiptHandle: string, delaySeconds: number, priority?: TaskPriority): Promise<void> {
    await callDependency('task queue', () =>
      this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.urlOf(priority),
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
