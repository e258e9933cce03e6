import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DeadlineExceededError, invocationDeadline, withDeadline } from '#lib/deadline';
import { CLEANUP_RESERVE_MS, type ReceivedMessage } from '#lib/tasks/processing';
import { traceFrom, withTrace } from '#lib/trace';
import { baseHandler } from './base';

/** Time kept back from the function's timeout to report the batch: the records' clean-up runs before it. */
export const REPORT_RESERVE_MS = 500;

export function toReceivedMessage(record: SQSRecord): ReceivedMessage {
  return {
    body: record.body,
    receiptHandle: record.receiptHandle,
    receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
    ...(record.attributes.SentTimestamp ? { sentAt: new Date(Number(record.attributes.SentTimestamp)) } : {}),
  };
}

/**
 * An SQS-triggered handler that works the records of a batch concurrently and reports the ones
 * that failed in `batchItemFailures`, so only those come back. A batch in which every record
 * failed is reported the same way rather than thrown, so each record keeps its own retry delay.
 *
 * Time: the invocation's calls to DynamoDB and SQS end before its timeout (`withDeadline`), and the
 * signal given to each record aborts its work `CLEANUP_RESERVE_MS` earlier still, so a batch near its
 * deadline reports the records it did not finish as failures instead of being killed as a whole.
 */
export function sqsBatchHandler(
  handleMessage: (message: ReceivedMessage, signal: AbortSignal) => Promise<unknown>,
  /** Runs once the batch's records are done, within the invocation's time: what must be written once per invocation. */
  { afterBatch }: { afterBatch?: () => Promise<void> } = {},
) {
  return baseHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deadline = invocationDeadline(context, REPORT_RESERVE_MS);
    const outOfTime = new AbortController();
    const timer = setTimeout(() => outOfTime.abort(new DeadlineExceededError()), deadline - CLEANUP_RESERVE_MS - Date.now());
    // One processor per invocation: its failure list must never be shared by overlapping batches.
    const processor = new BatchProcessor(EventType.SQS);
    // Each record in the trace of the request that queued its task.
    const handleRecord = (record: SQSRecord) =>
      withTrace(traceFrom(record.messageAttributes?.traceparent?.stringValue), () => handleMessage(toReceivedMessage(record), outOfTime.signal));
    try {
      return await withDeadline(deadline, async () => {
        const response = await processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
        await afterBatch?.();
        return response;
      });
    } finally {
      clearTimeout(timer);
    }
  });
}
