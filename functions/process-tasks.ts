import { activity, taskProcessor } from '#lib/container';
import { sqsBatchHandler } from '#lib/handlers/sqs-batch';
import type { ActivityRecorder } from '#lib/tasks/activity';
import type { TaskProcessor } from '#lib/tasks/processing';

/**
 * SQS trigger of the task queue: works each task of the batch concurrently; failed records come back
 * with backoff. What the batch did is added to its minutes of activity once, at the batch's end.
 */
export const createHandler = (processor: Pick<TaskProcessor, 'process'>, recorder?: Pick<ActivityRecorder, 'flush'>) =>
  sqsBatchHandler(processor.process, recorder ? { afterBatch: recorder.flush } : {});

export const handler = createHandler(taskProcessor, activity);
