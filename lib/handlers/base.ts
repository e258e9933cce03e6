import middy, { type MiddlewareObj } from '@middy/core';
import warmup from '@middy/warmup';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '#lib/logger';
import { metrics } from '#lib/metrics';
import { withTrace, type TraceContext } from '#lib/trace';
import { tracer } from '#lib/tracer';

/**
 * The chain every handler of the service starts from, whatever its event: a warm-up ping (the
 * `serverless-plugin-warmup` convention: `{"source": "serverless-plugin-warmup"}`, which no API
 * Gateway or SQS event can carry) answers at once, having only loaded the module, as an instance
 * is initialised before its first invocation (the embedded stack sends one to each new instance,
 * local/lambda-instances.cjs); then an X-Ray segment for the
 * invocation where tracing is active (deployed stages), the logger gets the invocation's context and
 * drops the previous invocation's keys, and the metrics recorded during the invocation are
 * published at its end. The builders beside this file add what their event needs.
 */
export function baseHandler<Event, Result>(handle: (event: Event, context: Context) => Promise<Result>) {
  const chain = middy<Event, Result>().use(warmup());
  if (tracer) chain.use(captureLambdaHandler(tracer, { captureResponse: false }));
  return chain
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics())
    .handler(handle);
}

/** Runs a whole handler, its middleware included, in the trace `traceOf` finds in its event. */
export function traced<Event, Result>(traceOf: (event: Event) => TraceContext, handler: (event: Event, context: Context) => Promise<Result>) {
  return (event: Event, context: Context): Promise<Result> => withTrace(traceOf(event), () => handler(event, context));
}

/**
 * The middleware every handler uses: publishes what the invocation recorded (AWS requests, task
 * counts) as one EMF line at its end, and nothing when it recorded nothing (a 400 before any AWS
 * call, the docs page), where Powertools' own `logMetrics` would log a warning each time.
 */
function publishRecordedMetrics<Event, Result>(): MiddlewareObj<Event, Result> {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}

