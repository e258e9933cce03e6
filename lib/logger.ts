import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per container; the level comes from POWERTOOLS_LOG_LEVEL or LOG_LEVEL. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'task-service' });

export type AppLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'appendKeys'>;
