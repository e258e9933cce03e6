import type { z } from 'zod';
import type { AppLogger } from '#lib/logger';

/** What a kind's `run` is given besides its payload. */
export interface RunContext {
  taskId: string;
  /** 1 on the first attempt. */
  attempt: number;
  /**
   * Aborts when the task is canceled, when the kind's timeout passes, or when the invocation runs
   * out of time. Work should stop promptly: once it aborts, whatever `run` returns is thrown away.
   */
  signal: AbortSignal;
  /** The container's logger; every line carries the task's trace id. */
  logger: AppLogger;
  /**
   * Reports how far the work is (`fraction` from 0 to 1) for `GET`, lists and the dashboard. Cheap
   * to call often: writes are coalesced to one per task every few seconds, the latest value winning.
   */
  progress(fraction: number, message?: string): void;
}

/**
 * A kind of task: the unit a team adds to the service. One file per kind (see `kinds/`), listed once
 * in `kinds/index.ts`. Its payload schema is what a submit of the kind is validated with, and what
 * the OpenAPI document shows for it.
 */
export interface TaskKind<Payload extends z.ZodType = z.ZodType, Result extends z.ZodType = z.ZodType> {
  /** What clients send as `kind`: lower case, digits and dashes. */
  name: string;
  description: string;
  payload: Payload;
  result: Result;
  /** The work is aborted after this long and the attempt counts as failed with TIMED_OUT. */
  timeoutSeconds: number;
  /** Attempts before the task ends FAILED; at most the queue's receive count, which is the default. */
  attempts?: number;
  /** The delay before the second attempt, doubled for each one after it (default: the service's RETRY_BASE_DELAY_SECONDS). */
  retryBaseDelaySeconds?: number;
  /** How many tasks of this kind one invocation runs at once; the others of its batch wait for a turn. */
  concurrency?: number;
  run(payload: z.output<Payload>, context: RunContext): Promise<z.input<Result>>;
}

/** Any kind, whatever its payload and result types: what the registry and the processor hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry is heterogeneous by design; each kind is typed where it is defined
export type AnyTaskKind = TaskKind<any, any>;

/** What a kind's name may be: also what `GET /api/tasks?kind=` accepts. */
export const KIND_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A kind, checked when its module loads, so that a mistake fails the deploy's first invocation rather than a task. */
export function defineTaskKind<Payload extends z.ZodType, Result extends z.ZodType>(kind: TaskKind<Payload, Result>): TaskKind<Payload, Result> {
  if (!KIND_NAME.test(kind.name)) throw new Error(`Task kind name "${kind.name}" must match ${KIND_NAME}`);
  if (!(kind.timeoutSeconds > 0)) throw new Error(`Task kind ${kind.name}: timeoutSeconds must be more than 0`);
  for (const setting of ['attempts', 'concurrency'] as const) {
    const value = kind[setting];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw new Error(`Task kind ${kind.name}: ${setting} must be a whole number of 1 or more`);
  }
  return kind;
}

/** The kind a submit without `kind` gets: the simulated job every request before kinds existed ran. */
export const DEFAULT_KIND = 'simulated';

/** The kinds this deployment runs, by name. */
export interface KindRegistry {
  readonly names: readonly string[];
  readonly kinds: readonly AnyTaskKind[];
  get(name: string): AnyTaskKind | undefined;
}

export function createKindRegistry(kinds: readonly AnyTaskKind[]): KindRegistry {
  const byName = new Map<string, AnyTaskKind>();
  for (const kind of kinds) {
    if (byName.has(kind.name)) throw new Error(`Task kind "${kind.name}" is registered twice`);
    byName.set(kind.name, kind);
  }
  if (!byName.has(DEFAULT_KIND)) throw new Error(`The registry must hold the default kind "${DEFAULT_KIND}"`);
  return { names: [...byName.keys()], kinds: [...byName.values()], get: (name) => byName.get(name) };
}

/**
 * Thrown by a kind's `run` for a failure that retrying cannot mend (input its schema could not
 * judge, a missing resource): the task ends FAILED at once, with `code` and the message as its error.
 */
export class PermanentTaskError extends Error {
  override readonly name = 'PermanentTaskError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
