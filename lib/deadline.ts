import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The time budget of the invocation in progress: every call to a dependency takes its time from
 * what is left of it (the SDK clients read it, see `lib/aws/clients.ts`), so an invocation answers
 * before its function times out instead of being killed mid-call. Carried by AsyncLocalStorage
 * because the adapters are made once per container and shared by every invocation it serves.
 */
const budget = new AsyncLocalStorage<number>();

/** The deadline (epoch ms) of an invocation with `getRemainingTimeInMillis` left, keeping `reserveMs` of it back. */
export function invocationDeadline(context: { getRemainingTimeInMillis(): number }, reserveMs: number): number {
  return Date.now() + context.getRemainingTimeInMillis() - reserveMs;
}

/** Runs `fn` with a deadline (epoch ms); an enclosing earlier deadline still holds. */
export function withDeadline<T>(deadline: number, fn: () => T): T {
  const enclosing = budget.getStore();
  return budget.run(enclosing === undefined ? deadline : Math.min(enclosing, deadline), fn);
}

/** Runs `fn` with `reserveMs` of the current budget held back, for the clean-up that follows it. */
export function withReserve<T>(reserveMs: number, fn: () => T): T {
  const enclosing = budget.getStore();
  return enclosing === undefined ? fn() : budget.run(enclosing - reserveMs, fn);
}

/** Runs `fn` outside any invocation's budget: work a container does for all of its invocations. */
export function withoutDeadline<T>(fn: () => T): T {
  return budget.exit(fn);
}

/** Milliseconds left before the current deadline; undefined outside any budget. */
export function remainingMs(): number | undefined {
  const deadline = budget.getStore();
  return deadline === undefined ? undefined : deadline - Date.now();
}

/** An abort signal that fires at the current deadline; undefined outside any budget. */
export function deadlineSignal(): AbortSignal | undefined {
  const left = remainingMs();
  if (left === undefined) return undefined;
  const controller = new AbortController();
  if (left <= 0) controller.abort(new DeadlineExceededError());
  else setTimeout(() => controller.abort(new DeadlineExceededError()), left).unref();
  return controller.signal;
}

/**
 * What `work` comes to, or undefined if the current deadline passes first (the work goes on,
 * unawaited): for an answer worth having only while there is time to use it. A call's own timeout
 * is no bound on a machine too busy to run it on time.
 */
export function unlessPastDeadline<T>(work: Promise<T>): Promise<T | undefined> {
  const deadline = deadlineSignal();
  if (!deadline) return work;
  return new Promise<T | undefined>((resolve, reject) => {
    if (deadline.aborted) resolve(undefined);
    deadline.addEventListener('abort', () => resolve(undefined), { once: true });
    work.then(resolve, reject);
  });
}

/** The invocation ran out of time before a call could be made or answered. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  constructor() {
    super('The invocation ran out of time');
  }
}
