import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { countRequests } from '#lib/aws/clients';
import { SQSClient, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { createRequestTally } from '../../local/request-tally';

describe('the request tally', () => {
  it('sums the AWS request metrics of a Powertools EMF line and ignores the others', () => {
    const metrics = new Metrics({ namespace: 'TaskService', serviceName: 'task-service' });
    metrics.addMetric('DynamoDB.UpdateItem', MetricUnit.Count, 1);
    metrics.addMetric('DynamoDB.UpdateItem', MetricUnit.Count, 1);
    metrics.addMetric('SQS.SendMessageBatch', MetricUnit.Count, 1);
    metrics.addMetric('TasksCompleted', MetricUnit.Count, 2);
    const tally = createRequestTally();
    tally.addFromLogLine(JSON.stringify(metrics.serializeMetrics()));
    tally.addFromLogLine('{"level":"INFO","message":"Task completed"}');
    tally.addFromLogLine('not json {"_aws": oops');
    expect(tally.counts()).toEqual({ 'DynamoDB.UpdateItem': 2, 'SQS.SendMessageBatch': 1 });
    tally.reset();
    expect(tally.counts()).toEqual({});
  });

  it('is told of every attempt a client makes, by service and operation', async () => {
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 2 });
    const tally = createRequestTally();
    countRequests(sqs, 'SQS', tally.add);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }))).rejects.toThrow();
    expect(tally.counts()).toEqual({ 'SQS.GetQueueUrl': 2 });
    sqs.destroy();
  });
});
