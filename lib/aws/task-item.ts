import { createHash } from 'node:crypto';
import { DEFAULT_KIND } from '#lib/tasks/kind';
import type { Task, TaskError, TaskProgress, TaskStatus, TaskSummary } from '#lib/tasks/model';
import { createdKey, listShard, statusShard } from './list-indexes';

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
  /** Sort key of both indexes: `<created_at>#<task_id>`. */
  created_key: string;
  title: string;
  description: string;
  status: TaskStatus;
  /** Absent on items written before kinds existed: those are of the default kind. */
  kind?: string;
  metadata_json: string;
  payload_json?: string;
  result_json?: string;
  error?: TaskError;
  /** Written by the attempt at work (coalesced), never by a status move. */
  progress?: TaskProgress;
  attempts: number;
  created_at: string;
  updated_at: string;
  started_at?: string;
  completed_at?: string;
  canceled_at?: string;
  lease_expires_at?: string;
  /** When the sweeper last sent the task again: it sends a waiting task at most once per stale period. */
  requeued_at?: string;
  /** Names the transition that wrote the item last: how a write retried by the SDK recognizes its own first attempt. */
  write_id?: string;
  /** The batch submit that created it, and the time after which a processor may abort that batch. */
  batch_id?: string;
  batch_commit_by?: string;
}

/** A batch's verdict, beside its tasks under a key no task id can take; expires with `expires_at` (TTL). */
export interface BatchItem {
  task_id: string;
  batch_verdict: 'COMMITTED' | 'ABORTED';
  expires_at: number;
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

export function toItem(task: Task): TaskItem {
  return {
    task_id: task.task_id,
    list_shard: listShard(task.task_id),
    status_shard: statusShard(task.status, task.task_id),
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
    attempts: task.attempts,
    created_at: task.created_at,
    updated_at: task.updated_at,
    ...(task.started_at === null ? {} : { started_at: task.started_at }),
    ...(task.completed_at === null ? {} : { completed_at: task.completed_at }),
    ...(task.canceled_at === null ? {} : { canceled_at: task.canceled_at }),
  };
}

export function toTask(item: TaskItem): Task {
  return {
    ...toTaskSummary(item),
    ...(item.payload_json === undefined ? {} : { payload: JSON.parse(item.payload_json) }),
    result: item.result_json === undefined ? null : JSON.parse(item.result_json),
  };
}

/** What a summary reads: every attribute but the unbounded payload and result. */
export const SUMMARY_ATTRIBUTES = [
  'task_id', 'title', 'description', 'status', 'kind', 'metadata_json', 'error', 'progress', 'attempts',
  'created_at', 'updated_at', 'started_at', 'completed_at', 'canceled_at',
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
    progress: item.progress ?? null,
    attempts: item.attempts,
    created_at: item.created_at,
    updated_at: item.updated_at,
    started_at: item.started_at ?? null,
    completed_at: item.completed_at ?? null,
    canceled_at: item.canceled_at ?? null,
  };
}
