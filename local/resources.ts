import { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CfnResource, ServiceDefinition } from './service-definition';

export interface LocalQueue {
  url: string;
  arn: string;
  /** The queue's redrive policy as serverless.yml declares it, with the dead-letter queue's URL. */
  redrive?: { deadLetterQueueUrl: string; maxReceiveCount: number };
}

export interface CreatedResources {
  tables: Record<string, string>;
  queues: Record<string, LocalQueue>;
}

export interface ResourceOverrides {
  /** Replaces every queue's VisibilityTimeout: tests want a crashed batch back in seconds, not minutes. */
  visibilityTimeoutSeconds?: number;
  /**
   * False: the emulator is not given the redrive policies, and whoever consumes the queue applies
   * them (the local trigger does). The emulator counts a ChangeMessageVisibility as a receive, so its
   * own redrive would move a message to the dead-letter queue after fewer real receives than SQS.
   */
  emulatorRedrive?: boolean;
}

const TABLE_FIELDS = ['TableName', 'AttributeDefinitions', 'KeySchema', 'GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'BillingMode', 'StreamSpecification'] as const;
const QUEUE_ATTRIBUTES = ['VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'MaximumMessageSize', 'FifoQueue', 'ContentBasedDeduplication'] as const;

function getAttArn(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
}

/** Creates the tables and queues that serverless.yml declares, from their CloudFormation properties. */
export async function createResources(
  definition: ServiceDefinition,
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  overrides: ResourceOverrides = {},
): Promise<CreatedResources> {
  const entries = Object.entries(definition.resources);
  const tables: Record<string, string> = {};
  for (const [logicalId, resource] of entries.filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')) {
    tables[logicalId] = await createTable(resource, clients.dynamodb);
  }

  const queues: Record<string, LocalQueue> = {};
  // A queue's dead-letter queue has to exist before the queue that redrives to it.
  const pending = entries.filter(([, r]) => r.Type === 'AWS::SQS::Queue');
  while (pending.length > 0) {
    const index = pending.findIndex(([, r]) => {
      const target = getAttArn((r.Properties.RedrivePolicy as Record<string, unknown> | undefined)?.deadLetterTargetArn);
      return !target || queues[target];
    });
    if (index < 0) throw new Error('serverless.yml: a RedrivePolicy names a queue that is not declared');
    const [[logicalId, resource]] = pending.splice(index, 1) as [[string, CfnResource]];
    queues[logicalId] = await createQueue(resource, queues, clients.sqs, overrides);
  }
  return { tables, queues };
}

/**
 * A new, empty table with the keys and indexes of `source`: a space of its own, where nothing else
 * of the stack (its sweeper, other suites) reads or writes.
 */
export async function createTableLike(dynamodb: DynamoDBDocumentClient, source: string, tableName: string): Promise<string> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: source }));
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: Table!.KeySchema,
      AttributeDefinitions: Table!.AttributeDefinitions,
      GlobalSecondaryIndexes: Table!.GlobalSecondaryIndexes?.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })),
    }),
  );
  return tableName;
}

async function createTable(resource: CfnResource, dynamodb: DynamoDBClient): Promise<string> {
  const input = Object.fromEntries(
    TABLE_FIELDS.filter((field) => resource.Properties[field] !== undefined).map((field) => [field, resource.Properties[field]]),
  ) as unknown as CreateTableCommandInput;
  await dynamodb.send(new CreateTableCommand(input));
  const ttl = resource.Properties.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
  if (ttl?.Enabled) {
    await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: ttl }));
  }
  return input.TableName!;
}

async function createQueue(
  resource: CfnResource,
  created: Record<string, LocalQueue>,
  sqs: SQSClient,
  overrides: ResourceOverrides,
): Promise<LocalQueue> {
  const properties = resource.Properties;
  const attributes: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    if (properties[name] !== undefined) attributes[name] = String(properties[name]);
  }
  if (overrides.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(overrides.visibilityTimeoutSeconds);
  const redrive = properties.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number } | undefined;
  const target = redrive && created[getAttArn(redrive.deadLetterTargetArn)!]!;
  if (redrive && target && overrides.emulatorRedrive !== false) {
    attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target.arn, maxReceiveCount: Number(redrive.maxReceiveCount) });
  }
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: String(properties.QueueName), Attributes: attributes }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return {
    url: QueueUrl!,
    arn: Attributes!.QueueArn!,
    ...(redrive && target ? { redrive: { deadLetterQueueUrl: target.url, maxReceiveCount: Number(redrive.maxReceiveCount) } } : {}),
  };
}
