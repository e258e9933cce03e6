import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions, MiddlewareStack } from '@smithy/types';
import { DeadlineExceededError, deadlineSignal } from '#lib/deadline';

/**
 * Every attempt the SDK makes is cut off at the invocation's deadline (`lib/deadline.ts`), so its
 * retries never outlive the invocation; once the deadline has passed, no attempt is started. The
 * abort is not an error the SDK retries.
 */
class BudgetedHttpHandler extends NodeHttpHandler {
  override async handle(request: Parameters<NodeHttpHandler['handle']>[0], options: HttpHandlerOptions = {}) {
    const deadline = deadlineSignal();
    if (!deadline) return super.handle(request, options);
    if (deadline.aborted) throw new DeadlineExceededError();
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal as AbortSignal, deadline]) : deadline;
    return super.handle(request, { ...options, abortSignal });
  }
}

/**
 * Short timeouts so that a dependency that does not answer becomes a quick 503 instead of a
 * request hanging until API Gateway gives up; the SDK's own retries (3 attempts) still apply,
 * within the invocation's deadline. Keep-alive saves a TLS handshake per call.
 */
const requestHandler = () =>
  new BudgetedHttpHandler({
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    // Time spent waiting for a pooled socket counts against the connect timeout. A Lambda instance
    // runs one invocation at a time, well under the SDK's default pool of 50; a process that runs
    // many at once (the integration tests, the bench) must not queue for sockets.
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 500 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 500 }),
  });

/** Told of every request sent, by service and operation (`DynamoDB.UpdateItem`, `SQS.SendMessageBatch`). */
export type RequestListener = (operation: string) => void;

/**
 * Reports each request a client sends, retries included (AWS bills every attempt): the service's
 * AWS requests per task, as the bench reports them and as CloudWatch shows them in production.
 */
export function countRequests<Input extends object, Output extends object>(
  client: { middlewareStack: MiddlewareStack<Input, Output> },
  service: 'DynamoDB' | 'SQS' | 'EventBridge',
  onRequest: RequestListener,
): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      onRequest(`${service}.${String(context.commandName).replace(/Command$/, '')}`);
      return next(args);
    },
    // The deserialize step runs inside the retry loop: once per attempt.
    { step: 'deserialize', name: 'countRequests' },
  );
}

/** `endpoint` points a client elsewhere than the environment says (tests put a faulty one in the way). */
export function createDocumentClient(onRequest?: RequestListener, endpoint?: string): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ requestHandler: requestHandler(), ...(endpoint ? { endpoint } : {}) });
  if (onRequest) countRequests(client, 'DynamoDB', onRequest);
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function createSqsClient(onRequest?: RequestListener, endpoint?: string): SQSClient {
  // The queue URL names the queue; the endpoint stays the configured one (on AWS they agree; in
  // LocalStack's function containers the URL's host would need public DNS, and the SDK warns on every call).
  const client = new SQSClient({ requestHandler: requestHandler(), useQueueUrlAsEndpoint: false, ...(endpoint ? { endpoint } : {}) });
  if (onRequest) countRequests(client, 'SQS', onRequest);
  return client;
}

export function createEventBridgeClient(onRequest?: RequestListener): EventBridgeClient {
  const client = new EventBridgeClient({ requestHandler: requestHandler() });
  if (onRequest) countRequests(client, 'EventBridge', onRequest);
  return client;
}
