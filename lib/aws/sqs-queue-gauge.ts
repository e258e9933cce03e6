import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { callDependency } from './dependency-call';
import type { QueueDepth, QueueGauge } from '#lib/tasks/ports';

/**
 * A queue's depth from SQS's approximate counters, in one GetQueueAttributes call. The age of the
 * oldest message is not among them: on AWS it is CloudWatch's `ApproximateAgeOfOldestMessage`.
 */
export class SqsQueueGauge implements QueueGauge {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async depth(): Promise<QueueDepth> {
    const { Attributes = {} } = await callDependency('task queue', () =>
      this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      ),
    );
    return {
      waiting: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }
}
