import { Agent as HttpAgent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import type { EmbeddedStack } from '../local/embedded-stack';

/** What every phase is given: the run's settings from the command line. */
export interface BenchSettings {
  tasks: number;
  workMs: number;
  /** Batches in flight at once: the trigger's maximum concurrency. */
  concurrency: number;
  phaseMs: number;
  warmupMs: number;
}

export const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) };
  } catch {
    return { status: response.status, json: text };
  }
}

export const taskBody = (n: number) => ({ title: `bench ${n}`, description: 'benchmark task', payload: { n } });

/**
 * SDK clients straight to the stack's emulators, for the bench's own calls (the limit, its
 * bookkeeping). `maxSockets`: enough that the client's pool is never what limits a phase.
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

/** How many of `times` fall in each second from `from`. */
export function bucketPerSecond(times: number[], from: number): number[] {
  const buckets: number[] = [];
  for (const time of times) {
    const second = Math.floor((time - from) / 1000);
    buckets[second] = (buckets[second] ?? 0) + 1;
  }
  return Array.from(buckets, (n) => n ?? 0);
}

/** Requests per task by service and operation, as the SDK middleware counted them. */
export function perTask(counts: Record<string, number>, tasks: number) {
  const byService: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
  for (const [target, count] of Object.entries(counts)) {
    const service = target.startsWith('DynamoDB.') ? 'dynamodb' : target.startsWith('SQS.') ? 'sqs' : 'other';
    byService[service] = (byService[service] ?? 0) + count / tasks;
    byOperation[target] = count / tasks;
  }
  return { byService, byOperation };
}
