import { completionNotifier } from '#lib/container';
import { scheduledHandler } from '#lib/handlers/scheduled';

/** Time kept back from the timeout: the run stops before the function would be killed. */
const RELAY_RESERVE_MS = 1_000;

/** Scheduled, every minute: publishes the completion events that their writers left unpublished (lib/tasks/completion-events.ts). */
export const createHandler = (notifier: Pick<typeof completionNotifier, 'relayUnpublished'>) => scheduledHandler(RELAY_RESERVE_MS, notifier.relayUnpublished);

export const handler = createHandler(completionNotifier);
