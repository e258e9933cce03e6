import type { AppLogger } from '#lib/logger';
/** What every phase is given: the run's settings from the command line. */
export interface BenchSettings {
  tasks: number;
  workMs: number;
  /** Batches in flight at once: the trigger's maximum concurrency. */
  concurrency: number;
  phaseMs: number;
  warmupMs: number;
}

/** For the service's own code run inside the bench (its store and processor): expected failures (timeouts) are not news here. */
export const quietLogger: AppLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (...args) => console.error(...args), appendKeys: () => undefined };

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
