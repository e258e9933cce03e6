import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { TASK_STATUSES, type TaskStatus } from '#lib/tasks/model';
import { InvalidCursorError } from '#lib/tasks/errors';

/**
 * The table's three keys-only indexes. All sort by `created_key` (`<created_at>#<task_id>`), which
 * is unique: tasks of one batch share `created_at`, and a tie must have one order everywhere for a
 * walk to resume exactly where it stopped.
 *
 * - `by-created`, partitioned by `list_shard`: a task never leaves its partition, so a walk without
 *   a filter lists exactly once every task that existed when it began, whatever its status does.
 * - `by-status`, partitioned by `status_shard` (`<status>#<shard>`): a filtered page reads only tasks
 *   of that status. A status change moves the task to another partition under the same sort key,
 *   so a walk meets it at most once, and a task that kept the status throughout exactly once.
 *   A held task (delayed past what SQS can delay, lib/tasks/schedule.ts) is PENDING in its own
 *   partitions, `SCHEDULED#<shard>`, until it is dispatched: a PENDING walk or count reads both, the
 *   sweeper only the PENDING ones, so tasks that wait by design never stand before lost ones.
 * - `by-kind`, partitioned by `kind_shard` (`<kind>#<shard>`): a task never leaves it (its kind is
 *   fixed), so a status move writes nothing to it; a walk of one kind with a status filter reads the
 *   kind's tasks and keeps those of that status (its pages may be short).
 *
 * Each is spread over SHARDS partitions by the task id's first hex digit, so neither a busy status
 * nor a burst of submits is one hot partition.
 */
export const CREATED_INDEX = 'by-created';
export const STATUS_INDEX = 'by-status';
export const KIND_INDEX = 'by-kind';
/**
 * The sparse index of held tasks, partitioned by `due_shard` and sorted by `due_key`
 * (`<run_at>#<task_id>`): what the dispatcher reads, due first. A task leaves it when it is
 * dispatched or ends (its write removes both attributes).
 */
export const DUE_INDEX = 'by-due';
/**
 * The sparse index of final tasks whose completion event is not known to be published, partitioned
 * by `event_shard` and sorted by `event_key` (`<final write's time>#<task_id>`): set by the final
 * write, removed once the event is out; what the relay reads, oldest first.
 */
export const UNPUBLISHED_INDEX = 'by-unpublished';
export const eventKey = (endedAt: string, taskId: string): string => `${endedAt}#${taskId}`;
/** Where a held PENDING task sits in `by-status` until it is dispatched. */
export const HELD_STATUS = 'SCHEDULED';
export const SHARDS = 16;

const shardOf = (taskId: string) => parseInt(taskId[0] ?? '0', 16) % SHARDS;

export const listShard = (taskId: string): string => String(shardOf(taskId));
export const statusShard = (status: TaskStatus, taskId: string): string => `${status}#${shardOf(taskId)}`;
export const heldStatusShard = (taskId: string): string => `${HELD_STATUS}#${shardOf(taskId)}`;
export const dueShard = (taskId: string): string => String(shardOf(taskId));
export const dueKey = (runAt: string, taskId: string): string => `${runAt}#${taskId}`;
/**
 * The partition of `by-due` that holds refused batches' records with messages still to send (the
 * dispatcher's other read); never one of the shards' partitions, so a read of held tasks never meets one.
 */
export const HAND_OFF_PARTITION = 'hand-off';
/** The partitions of the sparse indexes (`by-due`, `by-unpublished`): one per shard. */
export const SHARD_PARTITIONS = Array.from({ length: SHARDS }, (_, shard) => String(shard));
export const eventShard = dueShard;
export const kindShard = (kind: string, taskId: string): string => `${kind}#${shardOf(taskId)}`;
export const createdKey = (createdAt: string, taskId: string): string => `${createdAt}#${taskId}`;
/** ISO timestamps hold no `#`, so the task id is what follows the first one. */
export const taskIdOf = (key: string): string => key.slice(key.indexOf('#') + 1);

/** The index a walk reads and its partitions: by kind or by status when filtered, by creation otherwise. */
export interface ListIndex {
  name: typeof CREATED_INDEX | typeof STATUS_INDEX | typeof KIND_INDEX;
  partitionKey: 'list_shard' | 'status_shard' | 'kind_shard';
  partitions: string[];
}

const shards = Array.from({ length: SHARDS }, (_, shard) => shard);

export function listIndexFor(status: TaskStatus | undefined, kind?: string): ListIndex {
  if (kind !== undefined) return { name: KIND_INDEX, partitionKey: 'kind_shard', partitions: shards.map((shard) => `${kind}#${shard}`) };
  return status
    ? { name: STATUS_INDEX, partitionKey: 'status_shard', partitions: statusPartitions([status], { held: true }) }
    : { name: CREATED_INDEX, partitionKey: 'list_shard', partitions: shards.map(String) };
}

/** The `by-status` partitions of these statuses; with `held`, PENDING's include the held tasks' (`SCHEDULED#<shard>`). */
export function statusPartitions(statuses: readonly TaskStatus[], { held = false }: { held?: boolean } = {}): string[] {
  return statuses.flatMap((status) => [
    ...shards.map((shard) => `${status}#${shard}`),
    ...(held && status === 'PENDING' ? shards.map((shard) => `${HELD_STATUS}#${shard}`) : []),
  ]);
}

/** Where each partition's walk stands: after a `created_key`, finished, or (absent) not started. */
export type Positions = Record<string, string | 'done'>;

const CREATED_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const CursorSchema = z.strictObject({
  status: z.enum(TASK_STATUSES).nullable(),
  /** Absent from cursors issued before lists could be filtered by kind. */
  kind: z.string().nullable().default(null),
  positions: z.record(z.string(), z.union([z.literal('done'), z.string().regex(CREATED_KEY)])),
});

/**
 * Cursors are opaque and signed: a client that edits one gets a 400, never a query on a key the
 * API did not choose. The signature is for integrity, not secrecy: a cursor is a position in a list
 * the client may read anyway.
 */
export class CursorCodec {
  constructor(private readonly signingKey: string) {}

  encode(status: TaskStatus | undefined, positions: Positions, kind?: string): string {
    const body = Buffer.from(JSON.stringify({ status: status ?? null, kind: kind ?? null, positions })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  decode(cursor: string, status: TaskStatus | undefined, kind?: string): Positions {
    const [body = '', signature = '', ...rest] = cursor.split('.');
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (rest.length > 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new InvalidCursorError('is not a cursor this API issued');
    }
    let parsed: z.infer<typeof CursorSchema>;
    try {
      parsed = CursorSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      throw new InvalidCursorError('is not a cursor this API issued');
    }
    if (parsed.status !== (status ?? null)) throw new InvalidCursorError('belongs to another status filter');
    if (parsed.kind !== (kind ?? null)) throw new InvalidCursorError('belongs to another kind filter');
    const known = new Set(listIndexFor(status, kind).partitions);
    if (Object.keys(parsed.positions).some((partition) => !known.has(partition))) throw new InvalidCursorError('is not a cursor this API issued');
    return parsed.positions;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.signingKey).update(body).digest('base64url').slice(0, 22);
  }
}

/** One partition's query result: its `created_key`s newest first, and whether more remain after them. */
export interface PartitionPage {
  partition: string;
  keys: string[];
  hasMore: boolean;
}

/**
 * Merges partition pages into the `limit` newest keys overall, and the positions after them.
 * Each partition is walked newest first and the newest head always goes first, so successive
 * pages list every key once, in order.
 */
export function mergePages(pages: PartitionPage[], previous: Positions, limit: number) {
  const taken = pages
    .flatMap((page) => page.keys)
    // Byte order, as DynamoDB sorts string keys (localeCompare would not).
    .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
    .slice(0, limit);
  const takenKeys = new Set(taken);
  const positions: Positions = { ...previous };
  for (const page of pages) {
    const consumed = page.keys.filter((key) => takenKeys.has(key));
    if (consumed.length === page.keys.length && !page.hasMore) positions[page.partition] = 'done';
    else if (consumed.length > 0) positions[page.partition] = consumed.at(-1)!;
  }
  return { keys: taken, positions };
}

export function allDone(positions: Positions, partitions: string[]): boolean {
  return partitions.every((partition) => positions[partition] === 'done');
}
