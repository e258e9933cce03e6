/**
 * Projected AWS cost per million tasks, from the requests per task the bench counted.
 * Prices: AWS's public on-demand prices for us-east-1 as last read for this project (DynamoDB
 * on-demand after the November 2024 reduction), not fetched live: check them before relying on
 * the figures. Not included: CloudWatch Logs ingestion (see the README), X-Ray (its default
 * sampling, one trace a second plus 5 %, keeps it small at volume), data transfer, free tiers.
 */
export const PRICES = {
  asOf: '2024-11 public price list, us-east-1',
  apiGatewayRestPerMillionRequests: 3.5,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  sqsPerMillionRequests: 0.4,
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
  /** Custom events put on a bus, per million (64 KB chunks; a completion event is well under one). */
  eventBridgePerMillionEvents: 1.0,
};

/** As serverless.yml gives processTasks. */
const PROCESSOR_MEMORY_GB = 0.125;
const BATCH_SIZE = 10;
/** Tasks per request of the batch endpoint, as the end-to-end phase submits them. */
const API_BATCH_SIZE = 100;

export interface CostBreakdown {
  apiGateway: number;
  lambdaRequests: number;
  lambdaCompute: number;
  sqs: number;
  dynamoDbWrites: number;
  dynamoDbReads: number;
  eventBridge: number;
  total: number;
}

function breakdown(parts: Omit<CostBreakdown, 'total'>): CostBreakdown {
  const total = Object.values(parts).reduce((sum, n) => sum + n, 0);
  return { ...parts, total };
}

export interface CostInputs {
  /** Requests per task by operation (`DynamoDB.PutItem`, `SQS.SendMessageBatch`, ...). */
  byOperation: Record<string, number>;
  workMs: number;
  cancelPollMs: number;
}

/**
 * Per million tasks. DynamoDB write units: each item write is one unit (items are under 1 KB),
 * plus the three list indexes: one unit each on insert, and two on `by-status` (the old key's delete,
 * the new key's put) per status change; the keys of `by-created` and `by-kind` never change. The
 * completion event's mark is three more per task that ends: the final write's `by-unpublished`
 * entry, the PartiQL UPDATE that clears it (25 to a `BatchExecuteStatement`, so the calls counted
 * say nothing of the units) and the entry's removal. EventBridge bills each event, ten to a
 * `PutEvents`: one per task that ends. Reads: the cancel polls are modelled, not counted, because on AWS each
 * container polls for its own batch while the embedded stack runs every batch in one process and
 * shares one poll: a task is polled every `cancelPollMs` of its work, an eventually consistent
 * half unit each. The rare list and sweeper queries are left out.
 */
export function projectCost({ byOperation, workMs, cancelPollMs }: CostInputs) {
  const op = (name: string) => byOperation[`DynamoDB.${name}`] ?? 0;
  const sqs = Object.entries(byOperation)
    .filter(([name]) => name.startsWith('SQS.'))
    .reduce((sum, [, n]) => sum + n, 0);
  const sends = byOperation['SQS.SendMessageBatch'] ?? 0;
  const itemWrites = op('PutItem') + op('UpdateItem') + op('DeleteItem') + 2 * op('TransactWriteItems') + (API_BATCH_SIZE / 4) * op('BatchWriteItem');
  const indexWrites = 3 + 2 * op('UpdateItem');
  const eventMarkWrites = 3;
  const cancelPollReads = Math.ceil(workMs / cancelPollMs) * 0.5;
  const million = 1_000_000;
  const common = {
    lambdaCompute: (million * PROCESSOR_MEMORY_GB * (workMs / 1000 + 0.1)) / BATCH_SIZE * PRICES.lambdaArmPerGbSecond,
    dynamoDbWrites: (itemWrites + indexWrites + eventMarkWrites) * PRICES.dynamoDbPerMillionWriteUnits,
    dynamoDbReads: cancelPollReads * PRICES.dynamoDbPerMillionReadUnits,
    eventBridge: PRICES.eventBridgePerMillionEvents,
  };
  return {
    batch: breakdown({
      ...common,
      apiGateway: PRICES.apiGatewayRestPerMillionRequests / API_BATCH_SIZE,
      lambdaRequests: (1 / API_BATCH_SIZE + 1 / BATCH_SIZE) * PRICES.lambdaPerMillionRequests,
      sqs: sqs * PRICES.sqsPerMillionRequests,
    }),
    single: breakdown({
      ...common,
      apiGateway: PRICES.apiGatewayRestPerMillionRequests,
      lambdaRequests: (1 + 1 / BATCH_SIZE) * PRICES.lambdaPerMillionRequests,
      // One SendMessage per task instead of a tenth of a SendMessageBatch.
      sqs: (sqs - sends + 1) * PRICES.sqsPerMillionRequests,
    }),
    /** What the list indexes (what `GET /api/tasks` queries) add to both. */
    listIndexes: indexWrites * PRICES.dynamoDbPerMillionWriteUnits,
  };
}
