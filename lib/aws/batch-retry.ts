import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyUnavailableError } from '#lib/errors';

export interface BatchRetryOptions {
  /** Calls made in all before giving up. */
  maxAttempts?: number;
  /** Delay before the second call; doubled for each further one. */
  baseDelayMs?: number;
}

/**
 * Sends `items` with one batch call, then whatever that call reports as left over (unprocessed
 * items, failed entries), with exponential backoff, until nothing is left. Throttling shows up as
 * leftovers, so giving up is reported as the dependency being unavailable.
 */
export async function sendUntilDone<T>(
  dependency: DependencyUnavailableError['dependency'],
  items: T[],
  send: (items: T[]) => Promise<T[]>,
  { maxAttempts = 5, baseDelayMs = 25 }: BatchRetryOptions = {},
): Promise<void> {
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(baseDelayMs * 2 ** (attempt - 2));
    pending = await send(pending);
    if (pending.length > 0 && attempt >= maxAttempts) {
      throw new DependencyUnavailableError(dependency, { cause: new Error(`${pending.length} item(s) left over after ${attempt} attempts`) });
    }
  }
}

/** `items` in slices of at most `size`. */
export function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, index) => items.slice(index * size, (index + 1) * size));
}

/**
 * Runs `send` on every chunk at once and waits for all of them to settle before it throws the first
 * failure: a caller that undoes the work after a failure must not race a chunk still in flight.
 */
export async function sendChunks<T>(chunkList: T[][], send: (chunk: T[]) => Promise<void>): Promise<void> {
  const settled = await Promise.allSettled(chunkList.map(send));
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}
