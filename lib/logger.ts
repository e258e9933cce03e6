import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { currentTrace } from './trace';

/**
 * Powertools' standard log line, plus the `trace_id` of the request or record being handled. Read
 * at each line from the async context, not kept as a logger key: the records of one batch run
 * concurrently on one logger, each in a trace of its own.
 */
export class TracedLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const trace = currentTrace();
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_arn: attributes.lambdaContext?.invokedFunctionArn,
        function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
        ...(trace ? { trace_id: trace.traceId } : {}),
      },
    }).addAttributes(additionalLogAttributes);
  }
}

/** One logger per container; the level comes from POWERTOOLS_LOG_LEVEL or LOG_LEVEL. */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'task-service',
  logFormatter: new TracedLogFormatter(),
});

export type AppLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'appendKeys'>;
