import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import { CallbackDeliverySchema } from './completion-events';
import type { CallbackAttempt } from './model';
import type { ReceivedMessage } from './processing';
import type { CallbackQueue, CallbackSender, TaskStore } from './ports';

/** The headers of a callback, as Stripe and GitHub sign their webhooks: an HMAC-SHA256 of `<timestamp>.<body>`. */
export const SIGNATURE_HEADER = 'x-task-signature';
export const TIMESTAMP_HEADER = 'x-task-timestamp';
export const EVENT_ID_HEADER = 'x-task-event-id';
const SIGNATURE_SCHEME = 'v1';

/** SQS hides a message for at most 12 hours: the longest a backoff can be. */
const MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60;

/**
 * The signature of a callback sent at `timestamp` (seconds since the epoch) with `body`: `v1=<hex>`.
 * The timestamp is signed with the body, so a receiver that refuses old timestamps refuses a replay.
 */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `${SIGNATURE_SCHEME}=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does with a callback: true when `signature` is this body's at `timestamp` and that
 * timestamp is within `toleranceSeconds` of `now`. Compared in constant time.
 */
export function verifyCallback(
  secret: string,
  { body, signature, timestamp, now = new Date(), toleranceSeconds = 300 }: { body: string; signature: string; timestamp: string; now?: Date; toleranceSeconds?: number },
): boolean {
  const seconds = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now.getTime() / 1000 - seconds) > toleranceSeconds) return false;
  const expected = Buffer.from(signCallback(secret, seconds, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The wait before the attempt after `attempt`: the base, doubled for each attempt made, at most 12 hours. */
export function callbackRetryDelaySeconds(attempt: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS);
}

/** A callback answered with something other than a 2xx, or not at all: its delivery comes back after its backoff. */
export class CallbackNotDeliveredError extends Error {
  override readonly name = 'CallbackNotDeliveredError';
}

export interface CallbackDelivererDeps {
  store: Pick<TaskStore, 'beginCallbackAttempt' | 'recordCallbackAttempt' | 'giveUpCallback'>;
  sender: CallbackSender;
  queue: Pick<CallbackQueue, 'retryAfter'>;
  clock: Clock;
  logger: AppLogger;
  /** The stage's signing secret (CALLBACK_SIGNING_SECRET, or the SSM parameter it names). */
  secret: () => Promise<string>;
  /** Attempts in all before a callback is given up on (CALLBACK_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** The wait after a first failed attempt, doubled after each further one (CALLBACK_RETRY_BASE_SECONDS). */
  retryBaseDelaySeconds: number;
}

/**
 * Calls a task's callback_url with its completion event, signed, and records the attempt on the
 * task: taken before the call (so the task counts its attempts, whatever delivered them), told after
 * it. A failed attempt comes back after its backoff (the message hidden for that long), until
 * `maxAttempts`; then, or at once when the address may not be called, the callback is GAVE_UP. A 2xx
 * ends it DELIVERED. A delivery queued twice (its event relayed after a writer's stop) shares the
 * task's attempts, and is dropped once the callback has ended.
 */
export function createCallbackDeliverer({ store, sender, queue, clock, logger, secret, maxAttempts, retryBaseDelaySeconds }: CallbackDelivererDeps) {
  return async function deliverCallback(message: ReceivedMessage): Promise<void> {
    const parsed = CallbackDeliverySchema.safeParse(safeJson(message.body));
    if (!parsed.success) {
      // Nothing sends such a message: retrying it would only fail again.
      logger.error('Dropped a callback delivery that is not one', { body: message.body.slice(0, 500) });
      return;
    }
    const { task_id: taskId, url, event } = parsed.data;
    const startedAt = clock.now();
    const attempt = await store.beginCallbackAttempt(taskId, startedAt, maxAttempts);
    if (attempt === undefined) {
      // Ended by another delivery of this event, or out of attempts (one whose outcome was never
      // told: its deliverer stopped): nothing more to call, and a callback out of attempts has ended.
      await store.giveUpCallback(taskId);
      logger.info('Callback ended or out of attempts; this delivery is dropped', { task_id: taskId });
      return;
    }
    const body = JSON.stringify(event);
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const response = await sender.post(url, body, {
      'content-type': 'application/json',
      'user-agent': 'task-service-callbacks/1',
      [SIGNATURE_HEADER]: signCallback(await secret(), timestamp, body),
      [TIMESTAMP_HEADER]: String(timestamp),
      [EVENT_ID_HEADER]: event.event_id,
    });
    const delivered = 'statusCode' in response && response.statusCode >= 200 && response.statusCode < 300;
    const record: CallbackAttempt = {
      attempt,
      at: startedAt.toISOString(),
      duration_ms: Math.max(0, clock.now().getTime() - startedAt.getTime()),
      status_code: 'statusCode' in response ? response.statusCode : null,
      error: delivered ? null : 'error' in response ? response.error : `answered ${response.statusCode}`,
    };
    const refused = 'refused' in response && response.refused;
    const gaveUp = !delivered && (refused || attempt >= maxAttempts);
    await store.recordCallbackAttempt(taskId, record, delivered ? 'DELIVERED' : gaveUp ? 'GAVE_UP' : undefined);
    if (delivered) return;
    if (gaveUp) {
      logger.warn('Gave up on a callback', { task_id: taskId, attempt, error: record.error });
      return;
    }
    await queue.retryAfter(message.receiptHandle, callbackRetryDelaySeconds(attempt, retryBaseDelaySeconds));
    throw new CallbackNotDeliveredError(`Callback of task ${taskId}, attempt ${attempt}: ${record.error}`);
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
