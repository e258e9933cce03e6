import { Metrics } from '@aws-lambda-powertools/metrics';
import { logger } from '#lib/logger';

/**
 * One Powertools Metrics per container: the domain's counts reach it through the TaskMetrics
 * adapter (lib/aws/cloudwatch-metrics.ts), and every handler chain publishes what an invocation
 * recorded as one CloudWatch EMF log line at its end (lib/handlers/base.ts). The namespace comes
 * from POWERTOOLS_METRICS_NAMESPACE.
 */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TaskService',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'task-service',
  // Its own warnings go through the structured logger, at the configured level.
  logger,
});
