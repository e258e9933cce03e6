import { requeueStaleTasks } from '#lib/container';
import { scheduledHandler } from '#lib/handlers/scheduled';

/** Time kept back from the timeout: the sweep stops sending a second before the function would be killed. */
const SWEEP_RESERVE_MS = 1_000;

/** Scheduled: requeues unfinished tasks whose message was lost (a submit that died between its write and its send, for one). */
export const createHandler = (sweep: typeof requeueStaleTasks) => scheduledHandler(SWEEP_RESERVE_MS, sweep);

export const handler = createHandler(requeueStaleTasks);
