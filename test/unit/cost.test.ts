import { PRICES, projectCost } from '../../bench/cost';

describe('the projected cost per million tasks', () => {
  const byOperation = {
    'DynamoDB.BatchWriteItem': 0.04,
    'DynamoDB.UpdateItem': 2,
    'SQS.SendMessageBatch': 0.1,
    'SQS.ReceiveMessage': 0.1,
    'SQS.DeleteMessageBatch': 0.1,
  };
  const cost = projectCost({ byOperation, workMs: 3000, cancelPollMs: 1000 });

  it('counts a write unit per item written and the list indexes on top: 3 + (1 + 1 + 5) units', () => {
    expect(cost.batch.dynamoDbWrites).toBeCloseTo(10 * PRICES.dynamoDbPerMillionWriteUnits);
    expect(cost.listIndexes).toBeCloseTo(7 * PRICES.dynamoDbPerMillionWriteUnits);
  });

  it('models the cancel polls as one eventually consistent half unit per poll of each task', () => {
    expect(cost.batch.dynamoDbReads).toBeCloseTo(3 * 0.5 * PRICES.dynamoDbPerMillionReadUnits);
  });

  it('prices a single submit as one API request and one SendMessage per task', () => {
    expect(cost.batch.sqs).toBeCloseTo(0.3 * PRICES.sqsPerMillionRequests);
    expect(cost.single.sqs).toBeCloseTo(1.2 * PRICES.sqsPerMillionRequests);
    expect(cost.single.apiGateway).toBe(PRICES.apiGatewayRestPerMillionRequests);
    expect(cost.batch.apiGateway).toBeCloseTo(PRICES.apiGatewayRestPerMillionRequests / 100);
  });

  it('adds up its parts', () => {
    const { total, ...parts } = cost.batch;
    expect(total).toBeCloseTo(Object.values(parts).reduce((sum, n) => sum + n, 0));
  });
});
