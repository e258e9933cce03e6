import { activity, taskProcessor } from '#lib/container';
import { sqsBatchHandler } from '#lib/handlers/sqs-batch';
import type { ActivityRecorder } from '#lib/tasks/activity';
import type { TaskProcessor } from '#lib/tasks/processing';

/** SQS trigger of the dead-letter queue: a task whose message ran out of attempts becomes FAILED, counted in its minute of activity. */
export const createHandler = (processor: Pick<TaskProcessor, 'failDeadLetter'>, recorder?: Pick<ActivityRecorder, 'flush'>) =>
  sqsBatchHandler(processor.failDeadLetter, recorder ? { afterBatch: recorder.flush } : {});

export const handler = createHandler(taskProcessor, activity);
