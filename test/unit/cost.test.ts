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

  it('counts a write unit per item written and the list indexes on top: 3 + (1 + 1 + 5) units, and 3 for the completion event\'s mark', () => {
    expect(cost.batch.dynamoDbWrites).toBeCloseTo(13 * PRICES.dynamoDbPerMillionWriteUnits);
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

  it('prices one completion event per task, however many a PutEvents carried', () => {
    expect(cost.batch.eventBridge).toBe(PRICES.eventBridgePerMillionEvents);
    expect(projectCost({ byOperation: { ...byOperation, 'EventBridge.PutEvents': 0.1 }, workMs: 3000, cancelPollMs: 1000 }).batch.eventBridge).toBe(PRICES.eventBridgePerMillionEvents);
  });

  it('adds up its parts', () => {
    const { total, ...parts } = cost.batch;
    expect(total).toBeCloseTo(Object.values(parts).reduce((sum, n) => sum + n, 0));
  });
});
