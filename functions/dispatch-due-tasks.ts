import { dispatchDueTasks } from '#lib/container';
import { scheduledHandler } from '#lib/handlers/scheduled';

/** Time kept back from the timeout: the run stops before the function would be killed. */
const DISPATCH_RESERVE_MS = 1_000;

/** Scheduled, every minute: queues the delayed tasks that are due within TASK_DISPATCH_AHEAD_SECONDS, and the messages refused batches could not send. */
export const createHandler = (dispatch: typeof dispatchDueTasks) => scheduledHandler(DISPATCH_RESERVE_MS, dispatch);

export const handler = createHandler(dispatchDueTasks);
