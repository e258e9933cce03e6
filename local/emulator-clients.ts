import { Agent as HttpAgent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators';
import type { EmbeddedStack } from './embedded-stack';

/**
 * SDK clients straight to the stack's emulators, for the tools' own calls beside the service (the
 * bench's limit and bookkeeping, the chaos runner's reads of every task after the drain). `maxSockets`: enough that the client's pool is never what
 * limits a phase.
 */
export function emulatorClients(stack: EmbeddedStack, maxSockets?: number) {
  const requestHandler = maxSockets ? new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets }) }) : undefined;
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...(requestHandler ? { requestHandler } : {}) };
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...config, endpoint: stack.emulatorEndpoints.dynamodb }));
  const sqs = new SQSClient({ ...config, endpoint: stack.emulatorEndpoints.sqs });
  return {
    dynamo,
    sqs,
    destroy: () => {
      dynamo.destroy();
      sqs.destroy();
    },
  };
}
