import type { Task } from './model';

/**
 * Delayed start (`run_at`, `delay_seconds`). A task due within what SQS can delay a message (15
 * minutes) is queued at once with that delay; a later one is held: stored without a message, in the
 * `by-due` index, until the dispatcher (a scheduled function, every minute) queues it
 * `dispatchAheadSeconds` before it is due, with the rest of the wait as the message's delay. Either
 * way the processor's claim is refused before `run_at`, so no path starts a task early.
 */

/** The furthest a task may be delayed: a year. */
export const MAX_DELAY_SECONDS = 365 * 24 * 60 * 60;
/** SQS's own limit on a message's DelaySeconds. */
export const MAX_QUEUE_DELAY_SECONDS = 900;
/** How far ahead of `run_at` the dispatcher queues a held task: under SQS's 15 minutes by the dispatcher's period (1 minute). */
export const DEFAULT_DISPATCH_AHEAD_SECONDS = 840;

/** When a submit asked its task to run: `run_at` as sent, `delay_seconds` from now, or null (at once). */
export function runAtOf(input: { run_at?: string | undefined; delay_seconds?: number | undefined }, now: Date): string | null {
  if (input.run_at !== undefined) return new Date(input.run_at).toISOString();
  if (input.delay_seconds !== undefined && input.delay_seconds > 0) return new Date(now.getTime() + input.delay_seconds * 1000).toISOString();
  return null;
}

/** A task the submit stores without a message, for the dispatcher: due more than `aheadSeconds` after it was created. */
export function isHeld(task: Pick<Task, 'run_at' | 'created_at'>, aheadSeconds: number): boolean {
  return task.run_at !== null && Date.parse(task.run_at) - Date.parse(task.created_at) > aheadSeconds * 1000;
}

/** The DelaySeconds of a message sent at `now` for a task due at `runAt`: the whole seconds left, within SQS's limit. */
export function queueDelaySeconds(runAt: string | null | undefined, now: Date): number {
  if (!runAt) return 0;
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((Date.parse(runAt) - now.getTime()) / 1000)));
}

/** Whether a task may start at `now`: never before its `run_at`. */
export const isDue = (task: Pick<Task, 'run_at'>, now: Date): boolean => task.run_at === null || Date.parse(task.run_at) <= now.getTime();
