import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { randomUUID } from 'node:crypto';

/** A completion event as a listener on the bus sees it. */
export interface PublishedEvent {
  source: string;
  detail_type: string;
  detail: Record<string, unknown> & { task_id: string };
}

export interface EventTap {
  /** Every event published for the task so far. */
  eventsOf(taskId: string): Promise<PublishedEvent[]>;
  stop(): Promise<void>;
}

/**
 * What the stack's bus was given. On the embedded stack, its local bus keeps every event
 * (local/event-bus.ts). On LocalStack, a rule of the test's own matches the service's events on the
 * stack's bus and sends them to a queue of the test's own, which is read here: a listener as a team
 * would add one.
 */
export async function startEventTap(): Promise<EventTap> {
  const localBus = process.env.TEST_EVENT_BUS_ENDPOINT;
  if (localBus) {
    return {
      eventsOf: async (taskId) => ((await (await fetch(`${localBus}/events?task_id=${taskId}`)).json()) as { events: PublishedEvent[] }).events,
      stop: async () => undefined,
    };
  }
  const busName = process.env.TASK_EVENT_BUS_NAME!;
  const events = new EventBridgeClient({});
  // The queue URL LocalStack answers names a host of its own; the endpoint reaches the queue by its path (as lib/aws/clients.ts).
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const name = `test-tap-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: name, EventBusName: busName, EventPattern: JSON.stringify({ source: ['task-service'] }) }));
  await events.send(new PutTargetsCommand({ Rule: name, EventBusName: busName, Targets: [{ Id: 'tap', Arn: Attributes!.QueueArn! }] }));
  const seen: PublishedEvent[] = [];
  return {
    async eventsOf(taskId) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      // Never deleted: the tap's queue goes with the tap.
      for (const message of Messages) {
        const event = JSON.parse(message.Body!) as { source: string; 'detail-type': string; detail: PublishedEvent['detail']; id: string };
        if (!seen.some((known) => (known as PublishedEvent & { id?: string }).id === event.id)) {
          seen.push({ source: event.source, detail_type: event['detail-type'], detail: event.detail, id: event.id } as PublishedEvent);
        }
      }
      return seen.filter((event) => event.detail.task_id === taskId);
    },
    async stop() {
      await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: busName, Ids: ['tap'] }));
      await events.send(new DeleteRuleCommand({ Name: name, EventBusName: busName }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      events.destroy();
      sqs.destroy();
    },
  };
}
