/**
 * Projected AWS cost per million tasks, from the requests per task the bench counted.
 * Prices: AWS's public on-demand prices for us-east-1 as last read for this project (DynamoDB
 * on-demand after the November 2024 reduction), not fetched live: check them before relying on
 * the figures.
 */
export const PRICES = {
  asOf: '2024-11 public price list, us-east-1',
  apiGatewayRestPerMillionRequests: 3.5,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  sqsPerMillionRequests: 0.4,
  dynamoDbPerMillionWriteUnits: 0.625,
  dynamoDbPerMillionReadUnits: 0.125,
};

const PROCESSOR_MEMORY_GB = 0.25;
const BATCH_SIZE = 10;
/** Requests per task that only the API makes (the counting proxies see the emulators, not the API). */
const API_BATCH_SIZE = 100;

export interface CostBreakdown {
  apiGateway: number;
  lambdaRequests: number;
  lambdaCompute: number;
  sqs: number;
  dynamoDbWrites: number;
  dynamoDbReads: number;
  total: number;
}

function breakdown(parts: Omit<CostBreakdown, 'total'>): CostBreakdown {
  const total = Object.values(parts).reduce((sum, n) => sum + n, 0);
  return { ...parts, total };
}

/**
 * Per million tasks. DynamoDB units: each item write is one unit (items are under 1 KB) plus the
 * status index: one unit on insert, two (delete and put of the key) per status change; each
 * strongly consistent read of a small item is one unit.
 */
export function projectCost(byOperation: Record<string, number>, workMs: number) {
  const op = (name: string) => byOperation[`DynamoDB_20120810.${name}`] ?? 0;
  const sqs = Object.entries(byOperation)
    .filter(([name]) => name.startsWith('AmazonSQS.'))
    .reduce((sum, [, n]) => sum + n, 0);
  const sends = byOperation['AmazonSQS.SendMessageBatch'] ?? 0;
  const itemWrites = op('PutItem') + op('UpdateItem') + op('DeleteItem') + 2 * op('TransactWriteItems') + API_BATCH_SIZE / 4 * op('BatchWriteItem');
  const indexWrites = 1 + 2 * op('UpdateItem');
  const reads = op('GetItem') + op('BatchGetItem') + op('Query');
  const million = 1_000_000;
  const common = {
    lambdaCompute: million * PROCESSOR_MEMORY_GB * (workMs / 1000 + 0.1) / BATCH_SIZE * PRICES.lambdaArmPerGbSecond,
    dynamoDbWrites: (itemWrites + indexWrites) * PRICES.dynamoDbPerMillionWriteUnits,
    dynamoDbReads: reads * PRICES.dynamoDbPerMillionReadUnits,
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
  };
}
