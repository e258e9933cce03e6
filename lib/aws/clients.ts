import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * Short timeouts so that a dependency that does not answer becomes a quick 503 instead of a
 * request hanging until API Gateway gives up; the SDK's own retries (3 attempts) still apply.
 * Keep-alive is on by default in SDK v3, which saves a TLS handshake per call.
 */
const requestHandler = () => new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 3_000 });

export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler: requestHandler() }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(): SQSClient {
  return new SQSClient({ requestHandler: requestHandler() });
}
