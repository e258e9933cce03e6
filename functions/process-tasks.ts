import { taskProcessor } from '#lib/container';
import { sqsBatchHandler } from '#lib/handlers/sqs-batch';
import type { TaskProcessor } from '#lib/tasks/processing';

/** SQS trigger of the task queue: works each task of the batch concurrently; failed records come back with backoff. */
export const createHandler = (processor: Pick<TaskProcessor, 'process'>) => sqsBatchHandler(processor.process);

export const handler = createHandler(taskProcessor);
