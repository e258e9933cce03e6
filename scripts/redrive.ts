import { createSqsClient } from '#lib/aws/clients';
import { redriveDeadLetters } from '#lib/aws/redrive';

/**
 * `npm run redrive`: moves the dead-letter queue's messages back to the task queue, for instance
 * after an outage kept the dead-letter consumer from settling them. Queue URLs come from
 * TASKS_QUEUE_URL and TASKS_DEAD_LETTER_QUEUE_URL (the endpoint from AWS_ENDPOINT_URL_SQS, if set).
 */
async function main() {
  const to = process.env.TASKS_QUEUE_URL;
  const from = process.env.TASKS_DEAD_LETTER_QUEUE_URL;
  if (!to || !from) throw new Error('Set TASKS_QUEUE_URL and TASKS_DEAD_LETTER_QUEUE_URL');
  const sqs = createSqsClient();
  const moved = await redriveDeadLetters(sqs, from, to);
  sqs.destroy();
  console.log(`Moved ${moved} message(s) from ${from} to ${to}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
