import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '#lib/logger';
import type { ReceivedMessage } from '#lib/tasks/processing';

/**
 * An SQS-triggered handler that works the records of a batch concurrently and reports the ones
 * that failed in `batchItemFailures`, so only those come back. A batch in which every record
 * failed is reported the same way rather than thrown, so each record keeps its own retry delay.
 */
export function sqsBatchHandler(handleMessage: (message: ReceivedMessage) => Promise<unknown>) {
  const processor = new BatchProcessor(EventType.SQS);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event, context) =>
      processPartialResponse(
        event,
        (record: SQSRecord) =>
          handleMessage({
            body: record.body,
            receiptHandle: record.receiptHandle,
            receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
          }),
        processor,
        { context, throwOnFullBatchFailure: false },
      ),
    );
}
