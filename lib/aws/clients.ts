import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * Short timeouts so that a dependency that does not answer becomes a quick 503 instead of a
 * request hanging until API Gateway gives up; the SDK's own retries (3 attempts) still apply.
 * Keep-alive saves a TLS handshake per call.
 */
const requestHandler = () =>
  new NodeHttpHandler({
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    // Time spent waiting for a pooled socket counts against the connect timeout. A Lambda container
    // runs one invocation at a time, well under the SDK's default pool of 50; the embedded stack
    // runs every invocation in one process, where 50 batches of 10 tasks would queue for sockets.
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 500 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 500 }),
  });

export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler: requestHandler() }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(): SQSClient {
  return new SQSClient({ requestHandler: requestHandler() });
}
