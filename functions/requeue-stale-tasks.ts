import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { requeueStaleTasks } from '#lib/container';
import { invocationDeadline, withDeadline } from '#lib/deadline';
import { logger } from '#lib/logger';
import { publishRecordedMetrics } from '#lib/metrics';

/** Scheduled: requeues unfinished tasks whose message was lost (a submit that died between its write and its send, for one). */
export const createHandler = (sweep: typeof requeueStaleTasks) =>
  middy((_event: unknown, context: Context) => withDeadline(invocationDeadline(context, 1_000), sweep))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishRecordedMetrics());

export const handler = createHandler(requeueStaleTasks);
