import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Consumer } from 'sqs-consumer';

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
  onError?: (error: Error) => void;
}

export interface QueueTrigger {
  stop(): Promise<void>;
}

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
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The local stand-in for Lambda's SQS event source mapping: `maxConcurrency` pollers each receive
 * a batch, invoke the function with a real SQSEvent, and delete only the records it did not list
 * in `batchItemFailures`. Failed records stay in the queue, come back after their visibility
 * timeout, and reach the dead-letter queue through the queue's redrive policy. A failed
 * invocation leaves the whole batch in the queue, as on AWS.
 */
export function startQueueTrigger(options: QueueTriggerOptions): QueueTrigger {
  const handleMessageBatch = async (messages: Message[]): Promise<Message[]> => {
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, options.queueArn, options.region)) };
    const response = await options.invoke(event);
    if (!options.reportBatchItemFailures) return messages;
    const failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    return messages.filter((message) => !failed.has(message.MessageId!));
  };

  const consumers = Array.from({ length: options.maxConcurrency }, () =>
    Consumer.create({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      batchSize: options.batchSize,
      waitTimeSeconds: options.batchingWindowSeconds,
      pollingWaitTimeMs: 0,
      // ApproximateReceiveCount is what the processor's backoff reads.
      attributeNames: ['All'],
      messageSystemAttributeNames: ['All'],
      terminateVisibilityTimeout: false,
      handleMessageBatch,
    }),
  );
  let stopping = false;
  // Stopping aborts the pollers' long polls: those errors are expected.
  const report = (error: Error) => (stopping ? undefined : options.onError?.(error));
  for (const consumer of consumers) {
    consumer.on('error', report);
    consumer.on('processing_error', report);
    consumer.start();
  }
  return {
    async stop() {
      stopping = true;
      await Promise.all(
        consumers.map(
          (consumer) =>
            new Promise<void>((resolve) => {
              if (!consumer.status.isRunning) return resolve();
              consumer.once('stopped', () => resolve());
              consumer.stop({ abort: true });
            }),
        ),
      );
    },
  };
}
