import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '#lib/logger';
import { publishRecordedMetrics } from '#lib/metrics';
import type { ReceivedMessage } from '#lib/tasks/processing';

/**
 * An SQS-triggered handler that works the records of a batch concurrently and reports the ones
 * that failed in `batchItemFailures`, so only those come back. A batch in which every record
 * failed is reported the same way rather than thrown, so each record keeps its own retry delay.
 */
export function sqsBatchHandler(handleMessage: (message: ReceivedMessage, signal: AbortSignal) => Promise<unknown>) {
  const processor = new BatchProcessor(EventType.SQS);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics())
    // middy aborts `signal` just before the Lambda timeout, so running work stops instead of being killed.
    .handler((event, context, { signal }) =>
      processPartialResponse(
        event,
        (record: SQSRecord) =>
          handleMessage(
            {
              body: record.body,
              receiptHandle: record.receiptHandle,
              receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
              ...(record.attributes.SentTimestamp ? { sentAt: new Date(Number(record.attributes.SentTimestamp)) } : {}),
            },
            signal,
          ),
        processor,
        { context, throwOnFullBatchFailure: false },
      ),
    );
}
