import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '#lib/logger';
import { publishRecordedMetrics } from '#lib/metrics';

/**
 * The chain every handler of the service starts from, whatever its event: the logger gets the
 * invocation's context and drops the previous invocation's keys, and the metrics recorded during
 * the invocation are published at its end. The builders beside this file add what their event needs.
 */
export function baseHandler<Event, Result>(handle: (event: Event, context: Context) => Promise<Result>) {
  return middy<Event, Result>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics())
    .handler(handle);
}
