import { createHash } from 'node:crypto';
import { DEFAULT_KIND } from '#lib/tasks/kind';
import { MAX_ATTEMPT_ERROR_LENGTH, type CallbackAttempt, type Task, type TaskAttempt, type TaskError, type TaskProgress, type TaskStatus, type TaskSummary } from '#lib/tasks/model';
import { createdKey, dueKey, dueShard, heldStatusShard, kindShard, listShard, statusShard } from './list-indexes';
import { isHeld } from '#lib/tasks/schedule';

/**
 * The item as stored. Free-form JSON (metadata, payload, result) is kept as JSON text: DynamoDB's
 * number type cannot hold every JSON number the SDK is given, and text keeps exactly what the
 * client sent.
 */
export interface TaskItem {
  task_id: string;
  /** Partition key of the `by-created` index; never changes. */
  list_shard: string;
  /** Partition key of the `by-status` index: `<status>#<shard>`. */
  status_shard: string;
  /** The `by-due` index's keys, on a held task only (lib/tasks/schedule.ts): removed when it is dispatched or ends. */
  due_shard?: string;
  due_key?: string;
  /** Not started before then (ISO time); absent: at once. */
  run_at?: string;
  /** Absent: normal (and on tasks stored before lanes existed). */
  priority?: 'high';
  /** Partition key of the `by-kind` index: `<kind>#<shard>`; never changes. Absent on items stored before it existed. */
  kind_shard?: string;
  /** Sort key of both indexes: `<created_at>#<task_id>`. */
  created_key: string;
  title: string;
  description: string;
  status: TaskStatus;
  /** Absent on items written before kinds existed: those are of the default kind. */
  kind?: string;
  metadata_json: string;
  /** A payload of up to INLINE_JSON_BYTES; a larger one is in its own item (`payload_apart`). */
  payload_json?: string;
  payload_apart?: boolean;
  /** A result of up to INLINE_JSON_BYTES; a larger one is in the item of the attempt that completed the task (`result_attempt`). */
  result_json?: string;
  result_attempt?: number;
  error?: TaskError;
  /** Written by a failed attempt's release. */
  last_error?: TaskError;
  /** Written by the attempt at work (coalesced), never by a status move. */
  progress?: TaskProgress;
  attempts: number;
  created_at: string;
  updated_at: string;
  started_at?: string;
  completed_at?: string;
  canceled_at?: string;
  retry_of?: string;
  retried_as?: string;
  lease_expires_at?: string;
  /** Set by the final write: when DynamoDB's TTL may delete the task (TASK_RETENTION_DAYS later). */
  expires_at?: number;
  /** When the sweeper last sent the task again: it sends a waiting task at most once per stale period. */
  requeued_at?: string;
  /** The W3C trace id of the submitting request; absent on tasks stored before it was kept. */
  trace_id?: string;
  /** What each attempt reported, appended by the writes that already happen (claim, completion, a failure): no write of its own. */
  attempt_log?: AttemptEvent[];
  /** Names the transition that wrote the item last: how a write retried by the SDK recognizes its own first attempt. */
  write_id?: string;
  /** Where the completion event is POSTed (the submit's callback_url). */
  callback_url?: string;
  /** Written by the callback's deliverer only: absent while no attempt has ended it (PENDING). */
  callback_state?: 'DELIVERED' | 'GAVE_UP';
  /** Every call of the callback, appended by the deliverer as it begins (its number is its place), then filled in. */
  callback_log?: Array<Omit<CallbackAttempt, 'attempt'>>;
  /** Names the write that began the latest attempt: how a begin the SDK retried after its answer was lost recognizes its own first write. */
  callback_token?: string;
  /**
   * The `by-unpublished` index's keys: set by the final write itself, removed once the task's
   * completion event is published (lib/tasks/completion-events.ts). A task still in the index after
   * a while is one whose publisher stopped between the two: the relay publishes it.
   */
  event_shard?: string;
  event_key?: string;
  /** The batch submit that created it, and the time after which a processor may abort that batch. */
  batch_id?: string;
  batch_commit_by?: string;
}

/**
 * An entry of `attempt_log`. A claim cannot name its attempt (it increments `attempts` in the same
 * write), so a start is numbered by its place: the starts are the last attempts, in order.
 */
export type AttemptEvent =
  | { event: 'started'; at: string }
  | { event: 'completed'; attempt: number; at: string }
  | { event: 'failed'; attempt: number; at: string; error: TaskError };

export const startedEvent = (at: Date): AttemptEvent => ({ event: 'started', at: at.toISOString() });
export const completedEvent = (attempt: number, at: Date): AttemptEvent => ({ event: 'completed', attempt, at: at.toISOString() });
export const failedEvent = (attempt: number, at: Date, error: TaskError): AttemptEvent => ({
  event: 'failed',
  attempt,
  at: at.toISOString(),
  error: { code: error.code, message: error.message.slice(0, MAX_ATTEMPT_ERROR_LENGTH) },
});

/** The SET clause that appends `event` to an item's attempt log, starting the log where there is none. */
export function appendToAttemptLog(event: AttemptEvent) {
  return {
    expression: '#attempt_log = list_append(if_not_exists(#attempt_log, :no_attempt_events), :attempt_event)',
    names: { '#attempt_log': 'attempt_log' },
    values: { ':no_attempt_events': [], ':attempt_event': [event] },
  };
}

/**
 * The attempts an item's log tells of, oldest first. An attempt that reported no end is RUNNING
 * while it is the task's latest and the task is PROCESSING, CANCELED when the task was canceled
 * during it, and ABANDONED otherwise. Attempts from before the log was kept are not listed.
 */
export function attemptHistoryOf(item: Pick<TaskItem, 'attempt_log' | 'attempts' | 'status'>): TaskAttempt[] {
  const log = item.attempt_log ?? [];
  const starts = log.filter((entry) => entry.event === 'started');
  const first = item.attempts - starts.length + 1;
  return starts.map((start, index) => {
    const attempt = first + index;
    const end = log.find((entry) => entry.event !== 'started' && entry.attempt === attempt);
    if (end && end.event !== 'started') {
      return end.event === 'completed'
        ? { attempt, started_at: start.at, ended_at: end.at, outcome: 'COMPLETED', error: null }
        : { attempt, started_at: start.at, ended_at: end.at, outcome: 'FAILED', error: end.error };
    }
    const latest = attempt === item.attempts;
    const outcome = latest && item.status === 'PROCESSING' ? 'RUNNING' : latest && item.status === 'CANCELED' ? 'CANCELED' : 'ABANDONED';
    return { attempt, started_at: start.at, ended_at: null, outcome, error: null };
  });
}

/** What a callback attempt says while it is underway, or forever if its deliverer stopped before it could tell. */
export const callbackAttemptBegun = (at: Date): Omit<CallbackAttempt, 'attempt'> => ({
  at: at.toISOString(),
  duration_ms: 0,
  status_code: null,
  error: 'no outcome recorded: the call is underway, or its deliverer stopped',
});

/** A batch's verdict, beside its tasks under a key no task id can take; expires with `expires_at` (TTL). */
export interface BatchItem {
  task_id: string;
  batch_verdict: 'COMMITTED' | 'ABORTED';
  expires_at: number;
  /** A refused batch's messages that its submit could not send, in `by-due`'s hand-off partition until the dispatcher takes them. */
  hand_off_json?: string;
  due_shard?: string;
  due_key?: string;
}

export const batchItemKey = (batchId: string) => `batch#${batchId}`;

/**
 * An idempotency key's record, kept in the tasks table under a key no task id can take (task ids
 * are UUIDs); it has no `status_shard`, so the status index never sees it. `expires_at` is the
 * table's TTL attribute.
 */
export interface IdempotencyItem {
  task_id: string;
  fingerprint: string;
  target_task_id: string;
  target_created_at: string;
  expires_at: number;
}

export const idempotencyItemKey = (key: string) => `idempotency#${createHash('sha256').update(key).digest('hex')}`;

/**
 * JSON of up to this many bytes is kept in the task's item; larger payloads and results get an item
 * of their own, written once. So every status write touches an item of about the same size (a
 * kilobyte or less with a short description and metadata), whatever the payload's or result's size:
 * DynamoDB bills an update by the larger of the item's sizes before and after, in 1 KB units.
 */
export const INLINE_JSON_BYTES = 400;

/** A payload or result kept apart from its task's item, under a key no task id can take; never in an index (no shard keys). */
export interface BodyItem {
  task_id: string;
  json: string;
  /** The table's TTL attribute. */
  expires_at: number;
}

export const payloadItemKey = (taskId: string) => `payload#${taskId}`;
export const resultItemKey = (taskId: string, attempt: number) => `result#${taskId}#${attempt}`;

const fitsInline = (json: string) => Buffer.byteLength(json) <= INLINE_JSON_BYTES;

/** The task's item, and the payload's own item when the payload is too large to keep inline (to be written first). */
export function toItems(task: Task, retentionDays: number, dispatchAheadSeconds: number): { item: TaskItem; payload?: BodyItem } {
  const item = isHeld(task, dispatchAheadSeconds) && task.status === 'PENDING' ? holdItem(toItem(task), task.run_at!) : toItem(task);
  if (item.payload_json === undefined || fitsInline(item.payload_json)) return { item };
  const { payload_json: json, ...rest } = item;
  return { item: { ...rest, payload_apart: true }, payload: { task_id: payloadItemKey(task.task_id), json, expires_at: bodyExpiresAt(Date.parse(task.created_at), retentionDays) } };
}

/** A held task: in its PENDING partition of the held (`SCHEDULED#`), and in `by-due` until it is dispatched. */
const holdItem = (item: TaskItem, runAt: string): TaskItem => ({
  ...item,
  status_shard: heldStatusShard(item.task_id),
  due_shard: dueShard(item.task_id),
  due_key: dueKey(runAt, item.task_id),
});

/** The TTL of a final task written at `atMs`: `retentionDays` later, in epoch seconds. */
export const finalExpiresAt = (atMs: number, retentionDays: number) => Math.ceil(atMs / 1000) + retentionDays * DAY_SECONDS;

/**
 * The TTL of a payload or result item, set once when it is written, never moved (that would be a
 * write billed by its size): past its task's own, as a task ends within the queue's 14-day message
 * retention of its submit (retries, the dead-letter queue and its consumer are all bounded by it).
 */
export const bodyExpiresAt = (writtenAtMs: number, retentionDays: number) => finalExpiresAt(writtenAtMs, retentionDays) + TASK_LIFETIME_DAYS * DAY_SECONDS;
const DAY_SECONDS = 24 * 60 * 60;
const TASK_LIFETIME_DAYS = 14;

/** Where a completion puts its result: inline, or in an item of its own keyed by the attempt (a late attempt's result can never replace it). */
export function placeResult(taskId: string, attempt: number, result: unknown, retentionDays: number): { inline: string } | { apart: BodyItem } {
  const json = JSON.stringify(result ?? null);
  return fitsInline(json) ? { inline: json } : { apart: { task_id: resultItemKey(taskId, attempt), json, expires_at: finalExpiresAt(Date.now(), retentionDays) } };
}

/** The keys of the items a task's payload and result are kept in, when they are kept apart. */
export function bodyKeysOf(item: TaskItem): { payload?: string; result?: string } {
  return {
    ...(item.payload_apart ? { payload: payloadItemKey(item.task_id) } : {}),
    ...(item.result_attempt === undefined ? {} : { result: resultItemKey(item.task_id, item.result_attempt) }),
  };
}

/** The task of an item, with its payload and result from their own items where they are kept apart. */
export function toTaskWithBodies(item: TaskItem, bodies: { payload?: string; result?: string }): Task {
  const task = toTask(item);
  return {
    ...task,
    ...(bodies.payload === undefined ? {} : { payload: JSON.parse(bodies.payload) }),
    ...(bodies.result === undefined ? {} : { result: JSON.parse(bodies.result) }),
  };
}

/** The task's item with everything inline: what `toItems` splits. */
function toItem(task: Task): TaskItem {
  return {
    task_id: task.task_id,
    list_shard: listShard(task.task_id),
    status_shard: statusShard(task.status, task.task_id),
    kind_shard: kindShard(task.kind, task.task_id),
    created_key: createdKey(task.created_at, task.task_id),
    title: task.title,
    description: task.description,
    status: task.status,
    kind: task.kind,
    metadata_json: JSON.stringify(task.metadata),
    ...(task.payload === undefined ? {} : { payload_json: JSON.stringify(task.payload) }),
    ...(task.result === null ? {} : { result_json: JSON.stringify(task.result) }),
    ...(task.error === null ? {} : { error: task.error }),
    ...(task.progress === null ? {} : { progress: task.progress }),
    ...(task.last_error === null ? {} : { last_error: task.last_error }),
    attempts: task.attempts,
    created_at: task.created_at,
    updated_at: task.updated_at,
    ...(task.started_at === null ? {} : { started_at: task.started_at }),
    ...(task.completed_at === null ? {} : { completed_at: task.completed_at }),
    ...(task.canceled_at === null ? {} : { canceled_at: task.canceled_at }),
    ...(task.retry_of === null ? {} : { retry_of: task.retry_of }),
    ...(task.retried_as === null ? {} : { retried_as: task.retried_as }),
    ...(task.trace_id === null ? {} : { trace_id: task.trace_id }),
    ...(task.run_at === null ? {} : { run_at: task.run_at }),
    ...(task.priority === 'high' ? { priority: 'high' as const } : {}),
    ...(task.callback_url === null ? {} : { callback_url: task.callback_url }),
  };
}

export function toTask(item: TaskItem): Task {
  return {
    ...toTaskSummary(item),
    ...(item.payload_json === undefined ? {} : { payload: JSON.parse(item.payload_json) }),
    result: item.result_json === undefined ? null : JSON.parse(item.result_json),
    attempt_history: attemptHistoryOf(item),
    callback_attempts: (item.callback_log ?? []).map((entry, index) => ({ attempt: index + 1, ...entry })),
  };
}

/** What a summary reads: every attribute but the unbounded payload and result. */
export const SUMMARY_ATTRIBUTES = [
  'task_id', 'title', 'description', 'status', 'kind', 'metadata_json', 'error', 'last_error', 'progress', 'attempts',
  'created_at', 'updated_at', 'started_at', 'completed_at', 'canceled_at', 'retry_of', 'retried_as', 'trace_id', 'run_at', 'priority',
  'callback_url', 'callback_state',
] as const satisfies ReadonlyArray<keyof TaskItem>;

export function toTaskSummary(item: Pick<TaskItem, (typeof SUMMARY_ATTRIBUTES)[number]>): TaskSummary {
  return {
    task_id: item.task_id,
    title: item.title,
    description: item.description,
    status: item.status,
    kind: item.kind ?? DEFAULT_KIND,
    metadata: JSON.parse(item.metadata_json),
    error: item.error ?? null,
    last_error: item.last_error ?? null,
    progress: item.progress ?? null,
    attempts: item.attempts,
    created_at: item.created_at,
    updated_at: item.updated_at,
    started_at: item.started_at ?? null,
    completed_at: item.completed_at ?? null,
    canceled_at: item.canceled_at ?? null,
    retry_of: item.retry_of ?? null,
    retried_as: item.retried_as ?? null,
    trace_id: item.trace_id ?? null,
    run_at: item.run_at ?? null,
    priority: item.priority ?? 'normal',
    callback_url: item.callback_url ?? null,
    callback_state: item.callback_url === undefined ? null : (item.callback_state ?? 'PENDING'),
  };
}
