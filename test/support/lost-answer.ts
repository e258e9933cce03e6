import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * A DynamoDB client whose first answer is lost after the write was applied (a timeout the SDK
 * retries): what an idempotent write must recognize as its own. `answers()` counts the attempts.
 */
export function clientLosingFirstAnswer(): { client: DynamoDBClient; answers: () => number } {
  const client = new DynamoDBClient({});
  let lost = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      const output = await next(args);
      if (lost++ === 0) throw Object.assign(new Error('answer lost'), { name: 'TimeoutError' });
      return output;
    },
    { step: 'deserialize', name: 'loseTheFirstAnswer' },
  );
  return { client, answers: () => lost };
}
