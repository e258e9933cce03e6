import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';

/** Runs the function for one batch, as Lambda does: its answer lists the records that failed. */
export type BatchInvoker = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface QueueTriggerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  invoke: BatchInvoker;
  batchSize: number;
  /** How long a poll waits to fill a batch, as Lambda's MaximumBatchingWindowInSeconds. */
  batchingWindowSeconds: number;
  /** Batches in flight at once, as the event source mapping's maximum concurrency. */
  maxConcurrency: number;
  reportBatchItemFailures: boolean;
  /**
   * The queue's redrive policy, applied here as SQS applies it: a message received more than
   * `maxReceiveCount` times goes to the dead-letter queue instead of to the function. The receive
   * count is the trigger's own (it is the queue's only consumer): the emulator's also counts every
   * ChangeMessageVisibility, which the processor's backoff sends after each failure.
   */
  redrive?: { deadLetterQueueUrl: string; maxReceiveCount: number };
  onError?: (error: Error) => void;
}

export interface QueueTrigger {
  /** Stops receiving until resumed; batches in flight go on. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** How long a failed receive waits before the next. */
const RETRY_POLL_MS = 1_000;
/**
 * How long one receive waits for the first message of a batch (a long poll, as Lambda's pollers
 * make): the emulator answers it the moment one message is there. Under the SDK clients' 3 s
 * request timeout (lib/aws/clients.ts), so an idle queue costs one receive per 2 s.
 */
const FIRST_MESSAGE_WAIT_SECONDS = 2;

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    // In the shape Lambda gives them (camel case), as the handlers read them on AWS.
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? 'String', ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }), stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The local stand-in for Lambda's SQS event source mapping: one poller receives batches while
 * fewer than `maxConcurrency` are in flight, invokes the function with a real SQSEvent, and
 * deletes (in one batched call) only the records it did not list in `batchItemFailures`. Failed
 * records stay in the queue, come back after their visibility timeout, and reach the dead-letter
 * queue through the queue's redrive policy. A failed invocation leaves the whole batch, as on AWS.
 *
 * One poller rather than one per concurrent batch: the emulator answers a receive at once when it
 * can fill the batch, so one poller keeps up with a backlog, and an idle queue costs one long poll
 * every 2 s instead of one per slot. With no batching window a message on an idle queue is
 * delivered the moment it arrives, as on AWS (until this poller long-polled, it paused a second
 * between empty receives, and a high-priority task waited up to that second).
 */
export function startQueueTrigger(options: QueueTriggerOptions): QueueTrigger {
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let paused: { resumed: Promise<void>; resume: () => void } | undefined;
  const pause = () => sleep(RETRY_POLL_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
  const report = (error: unknown) => {
    if (!stopping.signal.aborted) options.onError?.(error instanceof Error ? error : new Error(String(error)));
  };

  const receives = new Map<string, number>();
  const deleteAll = async (messages: Message[]) => {
    const { Failed = [] } = await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
    const failed = new Set(Failed.map((failure) => Number(failure.Id)));
    messages.forEach((message, index) => failed.has(index) || receives.delete(message.MessageId!));
    // An undeleted record comes back after its visibility timeout and is settled again: no loss.
    if (Failed.length > 0) report(new Error(`${Failed.length} processed record(s) could not be deleted`));
  };

  /** Counts this receive of each message; returns those still within the redrive policy's receives. */
  async function applyRedrive(messages: Message[]): Promise<Message[]> {
    for (const message of messages) {
      const count = (receives.get(message.MessageId!) ?? 0) + 1;
      receives.set(message.MessageId!, count);
      message.Attributes = { ...message.Attributes, ApproximateReceiveCount: String(count) };
    }
    const { redrive } = options;
    if (!redrive) return messages;
    const dead = messages.filter((message) => Number(message.Attributes!.ApproximateReceiveCount) > redrive.maxReceiveCount);
    if (dead.length > 0) {
      // Sent before it is deleted: a failure in between leaves a copy, never a loss.
      await options.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: redrive.deadLetterQueueUrl,
          Entries: dead.map((message, index) => ({
            Id: String(index),
            MessageBody: message.Body ?? '',
            ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
          })),
        }),
      );
      await deleteAll(dead);
    }
    return messages.filter((message) => !dead.includes(message));
  }

  async function settle(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, options.queueArn, options.region)) };
    const response = await options.invoke(event);
    const failed = new Set(
      options.reportBatchItemFailures ? (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier) : [],
    );
    const done = messages.filter((message) => !failed.has(message.MessageId!));
    if (done.length > 0) await deleteAll(done);
  }

  const receive = async (maxMessages: number, waitSeconds: number): Promise<Message[]> => {
    const response = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: maxMessages,
        // The emulator answers before WaitTimeSeconds only once it can fill MaxNumberOfMessages.
        WaitTimeSeconds: waitSeconds,
        // ApproximateReceiveCount is what the processor's backoff reads; the emulator answers only the older AttributeNames.
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: stopping.signal },
    );
    return response.Messages ?? [];
  };

  /** Makes messages received while pausing visible again at once: a paused trigger delivers nothing, and they cost no receive. */
  const release = async (messages: Message[]) => {
    await options.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
  };

  /**
   * One batch as Lambda's event source mapping gathers it: a long poll until the first message is
   * there, then the rest of the batch, either what is there now (no batching window: the batch
   * starts at once) or what arrives until the batch is full or the window has passed since.
   */
  async function receiveBatch(): Promise<Message[]> {
    const first = await receive(1, FIRST_MESSAGE_WAIT_SECONDS);
    if (first.length === 0 || options.batchSize === 1) return first;
    return [...first, ...(await receive(options.batchSize - 1, options.batchingWindowSeconds))];
  }

  async function poll(): Promise<void> {
    while (!stopping.signal.aborted) {
      if (paused) {
        await paused.resumed;
        continue;
      }
      if (inFlight.size >= options.maxConcurrency) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: Message[];
      try {
        messages = await receiveBatch();
        // Paused while the poll waited: nothing is delivered until resumed.
        if (paused && messages.length > 0) {
          await release(messages);
          continue;
        }
        messages = await applyRedrive(messages);
      } catch (error) {
        report(error);
        await pause();
        continue;
      }
      if (messages.length === 0) continue;
      const batch: Promise<void> = settle(messages)
        .catch(report)
        .finally(() => inFlight.delete(batch));
      inFlight.add(batch);
    }
  }

  const polling = poll();
  const resume = () => {
    paused?.resume();
    paused = undefined;
  };
  return {
    pause() {
      if (paused) return;
      let release = () => {};
      const resumed = new Promise<void>((resolve) => (release = resolve));
      paused = { resumed, resume: release };
    },
    resume,
    async stop() {
      // Batches in flight are left to finish or fail on their own; their records are safe in the queue.
      stopping.abort();
      resume();
      await polling;
    },
  };
}
