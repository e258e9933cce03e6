import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '#lib/metrics';
import type { TaskMetrics } from '#lib/tasks/ports';

/** The domain's TaskMetrics port, as CloudWatch metrics of the container's Powertools Metrics. */
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
