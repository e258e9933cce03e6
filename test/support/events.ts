import type { APIGatewayProxyEvent, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

export const lambdaContext = (): Context =>
  ({
    awsRequestId: randomUUID(),
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

interface ApiEventInput {
  method?: string;
  path?: string;
  body?: string | null;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  isBase64Encoded?: boolean;
}

/** A REST API (v1) proxy event as API Gateway sends it. */
export function apiEvent(input: ApiEventInput = {}): APIGatewayProxyEvent {
  const requestId = randomUUID();
  return {
    httpMethod: input.method ?? 'GET',
    path: input.path ?? '/api/tasks',
    resource: input.path ?? '/api/tasks',
    body: input.body ?? null,
    headers: input.headers ?? {},
    multiValueHeaders: {},
    pathParameters: input.pathParameters ?? null,
    queryStringParameters: input.queryStringParameters ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    isBase64Encoded: input.isBase64Encoded ?? false,
    requestContext: { requestId } as APIGatewayProxyEvent['requestContext'],
  };
}

export const jsonPost = (body: unknown, extra: ApiEventInput = {}) =>
  apiEvent({
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...extra,
    headers: { 'Content-Type': 'application/json', ...extra.headers },
  });

export function sqsRecord(body: string, receiveCount = 1, messageId = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tasks',
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });
