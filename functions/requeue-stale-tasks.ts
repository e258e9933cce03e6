import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { requeueStalePending } from '#lib/container';
import { logger } from '#lib/logger';

/** Scheduled: requeues PENDING tasks whose message was never sent (a submit that died between its write and its send). */
export const createHandler = (sweep: typeof requeueStalePending) =>
  middy(() => sweep()).use(injectLambdaContext(logger, { resetKeys: true }));

export const handler = createHandler(requeueStalePending);
