import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '#lib/logger';
import { publishRecordedMetrics } from '#lib/metrics';
import { withTrace, type TraceContext } from '#lib/trace';
import { tracer } from '#lib/tracer';

/**
 * The chain every handler of the service starts from, whatever its event: an X-Ray segment for the
 * invocation where tracing is active (deployed stages), the logger gets the invocation's context and
 * drops the previous invocation's keys, and the metrics recorded during the invocation are
 * published at its end. The builders beside this file add what their event needs.
 */
export function baseHandler<Event, Result>(handle: (event: Event, context: Context) => Promise<Result>) {
  return middy<Event, Result>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics())
    .handler(handle);
}

/** Runs a whole handler, its middleware included, in the trace `traceOf` finds in its event. */
export function traced<Event, Result>(traceOf: (event: Event) => TraceContext, handler: (event: Event, context: Context) => Promise<Result>) {
  return (event: Event, context: Context): Promise<Result> => withTrace(traceOf(event), () => handler(event, context));
}
