import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startFaultProxy, type FaultProxy } from '../../chaos/fault-proxy';
import { stackEnv } from '../support/stack-env';

/** The chaos run's fault proxy, in front of DynamoDB Local: each fault as a caller sees it. */
const { tableName } = stackEnv();
const direct = DynamoDBDocumentClient.from(new DynamoDBClient({}));
let proxy: FaultProxy;
let viaProxy: DynamoDBDocumentClient;

beforeAll(async () => {
  proxy = await startFaultProxy(process.env.AWS_ENDPOINT_URL_DYNAMODB!, 'dynamodb', { latencyMs: 300 });
  // One attempt: each call meets the fault itself, not a retry of it.
  viaProxy = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: proxy.endpoint, maxAttempts: 1 }));
});
afterAll(async () => {
  viaProxy.destroy();
  direct.destroy();
  await proxy.close();
});

const put = async () => {
  const taskId = `fault-proxy#${randomUUID()}`;
  const outcome = await viaProxy.send(new PutCommand({ TableName: tableName, Item: { task_id: taskId } })).then(
    () => 'answered',
    (error: Error) => error.name,
  );
  const stored = (await direct.send(new GetCommand({ TableName: tableName, Key: { task_id: taskId }, ConsistentRead: true }))).Item !== undefined;
  return { outcome, stored };
};

describe('the fault proxy in front of DynamoDB Local', () => {
  afterEach(() => proxy.setFault(undefined));

  it('forwards while no fault is set', async () => {
    expect(await put()).toEqual({ outcome: 'answered', stored: true });
  });

  it.each([
    ['5xx', false, 'InternalServerError'],
    ['throttle', false, 'ThrottlingException'],
    ['drop-answer', true, expect.not.stringMatching(/^answered$/)],
    ['reset', false, expect.not.stringMatching(/^answered$/)],
  ] as const)('%s: the caller gets an error; the write applied: %s', async (fault, stored, outcome) => {
    proxy.setFault(fault, 1);
    expect(await put()).toEqual({ outcome, stored });
    expect(proxy.injected[fault]).toBeGreaterThan(0);
  });

  it('latency: the answer comes, late', async () => {
    proxy.setFault('latency', 1);
    const started = Date.now();
    expect(await put()).toEqual({ outcome: 'answered', stored: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
