import type { AppLogger } from '#lib/logger';
import { PermanentTaskError, type AnyTaskKind } from './kind';
import type { Task } from './model';
import type { ProgressReporter } from './progress';

/** The largest result kept: the task's item also holds its payload (up to 256 KiB) and DynamoDB's item limit is 400 KB. */
export const MAX_RESULT_BYTES = 100 * 1024;

/** The kind's timeout passed before its work ended: the attempt failed, and its late result, if any, is thrown away. */
export class TaskTimedOutError extends Error {
  override readonly name = 'TaskTimedOutError';
  readonly code = 'TIMED_OUT';
  constructor(kind: AnyTaskKind) {
    super(`The work of kind ${kind.name} did not end within its timeout of ${kind.timeoutSeconds} s`);
  }
}

export interface AttemptContext {
  /** Aborts on a cancel or when the invocation runs out of time. */
  signal: AbortSignal;
  logger: AppLogger;
  progress: ProgressReporter;
}

/** A promise that rejects with the signal's reason once it aborts, and never settles otherwise. */
function abandonedWhen(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Runs one attempt of `task` with its kind: the payload parsed by the kind's schema, the work given
 * a signal that also aborts at the kind's timeout, and its result checked against the kind's result
 * schema and size. Once the signal aborts the attempt ends at once with the abort's reason, whether
 * or not the work heeds it: a late result can never be written over what the task became.
 */
export async function runAttempt(kind: AnyTaskKind, task: Task, { signal: outer, logger, progress }: AttemptContext): Promise<unknown> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new TaskTimedOutError(kind)), kind.timeoutSeconds * 1000).unref();
  const signal = AbortSignal.any([outer, timeout.signal]);
  try {
    const payload = kind.payload.safeParse(task.payload);
    if (!payload.success) throw new PermanentTaskError('INVALID_PAYLOAD', `The stored payload is not one kind ${kind.name} accepts: ${payload.error.message}`);
    const work = Promise.resolve().then(() =>
      kind.run(payload.data, {
        taskId: task.task_id,
        attempt: task.attempts,
        signal,
        logger,
        progress: (fraction, message) => progress.report(fraction, message),
      }),
    );
    const result = await Promise.race([work, abandonedWhen(signal)]);
    const checked = kind.result.safeParse(result);
    if (!checked.success) throw new PermanentTaskError('INVALID_RESULT', `Kind ${kind.name} returned a result its own schema refuses: ${checked.error.message}`);
    const bytes = Buffer.byteLength(JSON.stringify(checked.data ?? null));
    if (bytes > MAX_RESULT_BYTES) throw new PermanentTaskError('RESULT_TOO_LARGE', `The result is ${bytes} bytes; at most ${MAX_RESULT_BYTES} are kept`);
    return checked.data;
  } finally {
    clearTimeout(timer);
    progress.stop();
  }
}
