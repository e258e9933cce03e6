import { taskProcessor } from '#lib/container';
import { sqsBatchHandler } from '#lib/handlers/sqs-batch';
import type { TaskProcessor } from '#lib/tasks/processing';

/** SQS trigger of the dead-letter queue: a task whose message ran out of attempts becomes FAILED. */
export const createHandler = (processor: Pick<TaskProcessor, 'failDeadLetter'>) =>
  sqsBatchHandler(processor.failDeadLetter);

export const handler = createHandler(taskProcessor);
