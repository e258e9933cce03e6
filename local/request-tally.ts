/**
 * AWS requests made by the embedded stack, by operation (`DynamoDB.UpdateItem`): what the bench
 * reports per task. The functions count their own requests with the SDK middleware of
 * `lib/aws/clients.ts` and publish them as CloudWatch EMF metrics in their log output, which is
 * read here from serverless-offline's; the local trigger, standing in for Lambda's pollers, counts
 * its receives and deletes with the same middleware directly.
 */
export interface RequestTally {
  add(operation: string, count?: number): void;
  /** Adds the request counts of one log line, if it is an EMF metrics blob. */
  addFromLogLine(line: string): void;
  counts(): Record<string, number>;
  reset(): void;
}

const REQUEST_METRIC = /^(DynamoDB|SQS|EventBridge)\./;

interface EmfBlob {
  _aws?: { CloudWatchMetrics?: Array<{ Metrics?: Array<{ Name?: string }> }> };
  [metric: string]: unknown;
}

export function createRequestTally(): RequestTally {
  let counts: Record<string, number> = {};
  const add = (operation: string, count = 1) => {
    counts[operation] = (counts[operation] ?? 0) + count;
  };
  return {
    add,
    addFromLogLine(line) {
      const start = line.indexOf('{"_aws"');
      if (start < 0) return;
      let blob: EmfBlob;
      try {
        blob = JSON.parse(line.slice(start)) as EmfBlob;
      } catch {
        return;
      }
      for (const directive of blob._aws?.CloudWatchMetrics ?? []) {
        for (const { Name } of directive.Metrics ?? []) {
          if (!Name || !REQUEST_METRIC.test(Name)) continue;
          // Powertools writes a metric added several times in one invocation as an array of values.
          const values = ([] as unknown[]).concat(blob[Name]);
          add(Name, values.reduce<number>((sum, value) => sum + (typeof value === 'number' ? value : 0), 0));
        }
      }
    },
    counts: () => ({ ...counts }),
    reset: () => {
      counts = {};
    },
  };
}
