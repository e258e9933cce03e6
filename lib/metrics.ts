import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { logger } from '#lib/logger';
import type { TaskMetrics } from '#lib/tasks/ports';

/**
 * One Metrics per container, published as CloudWatch EMF log lines at the end of each invocation
 * by `publishRecordedMetrics`. The namespace comes from POWERTOOLS_METRICS_NAMESPACE.
 */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TaskService',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'task-service',
  // Its own warnings go through the structured logger, at the configured level.
  logger,
});

export const cloudWatchMetrics: TaskMetrics = {
  count: (metric, value = 1) => metrics.addMetric(metric, MetricUnit.Count, value),
  duration: (metric, milliseconds) => metrics.addMetric(metric, MetricUnit.Milliseconds, milliseconds),
};

/**
 * Counts one AWS request as a metric named after it (`DynamoDB.UpdateItem`): the calls each
 * function makes per invocation, which is what the service's AWS bill is made of.
 */
export const countAwsRequest = (operation: string): void => {
  metrics.addMetric(operation, MetricUnit.Count, 1);
};

/**
 * The middleware every handler uses: publishes what the invocation recorded (AWS requests, task
 * counts) as one EMF line at its end, and nothing when it recorded nothing (a 400 before any AWS
 * call, the docs page), where Powertools' own `logMetrics` would log a warning each time.
 */
export function publishRecordedMetrics<Event, Result>(): MiddlewareObj<Event, Result> {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}

