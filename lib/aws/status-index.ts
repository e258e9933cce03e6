import { z } from 'zod';
import { TASK_STATUSES, type TaskStatus } from '#lib/tasks/model';
import { InvalidCursorError } from '#lib/tasks/errors';

/**
 * The `by-status` index: each status is spread over STATUS_SHARDS partitions (by the task id's
 * first hex digit), so a million PENDING tasks are not one hot partition. The index is keys-only:
 * a status change rewrites only a key, never the task's payload; pages are read back from the
 * table by key.
 */
export const STATUS_INDEX = 'by-status';
export const STATUS_SHARDS = 16;

export function statusShard(status: TaskStatus, taskId: string): string {
  return `${status}#${parseInt(taskId[0] ?? '0', 16) % STATUS_SHARDS}`;
}

export function partitionsOf(statuses: readonly TaskStatus[]): string[] {
  return statuses.flatMap((status) => Array.from({ length: STATUS_SHARDS }, (_, shard) => `${status}#${shard}`));
}

/** An index entry: enough to order it and to resume a query after it. */
export interface IndexKey {
  task_id: string;
  status_shard: string;
  created_at: string;
}

/** Where each partition's walk stands: after a key, finished, or (absent) not started. */
export type Positions = Record<string, IndexKey | 'done'>;

const CursorSchema = z.strictObject({
  status: z.enum(TASK_STATUSES).nullable(),
  positions: z.record(z.string(), z.union([z.literal('done'), z.tuple([z.string(), z.string()])])),
});

/** An opaque cursor: the filter it belongs to and every partition's position. */
export function encodeCursor(status: TaskStatus | undefined, positions: Positions): string {
  const compact = Object.fromEntries(
    Object.entries(positions).map(([partition, at]) => [partition, at === 'done' ? 'done' : [at.created_at, at.task_id]]),
  );
  return Buffer.from(JSON.stringify({ status: status ?? null, positions: compact })).toString('base64url');
}

export function decodeCursor(cursor: string, status: TaskStatus | undefined): Positions {
  let parsed: z.infer<typeof CursorSchema>;
  try {
    parsed = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidCursorError('is not a cursor this API issued');
  }
  if (parsed.status !== (status ?? null)) throw new InvalidCursorError('belongs to another status filter');
  const known = new Set(partitionsOf(status ? [status] : TASK_STATUSES));
  const positions: Positions = {};
  for (const [partition, at] of Object.entries(parsed.positions)) {
    if (!known.has(partition)) throw new InvalidCursorError('is not a cursor this API issued');
    positions[partition] = at === 'done' ? 'done' : { status_shard: partition, created_at: at[0], task_id: at[1] };
  }
  return positions;
}

/** One partition's query result: its keys newest first, and whether more remain after them. */
export interface PartitionPage {
  partition: string;
  keys: IndexKey[];
  hasMore: boolean;
}

const newestFirst = (a: IndexKey, b: IndexKey) =>
  a.created_at === b.created_at ? b.task_id.localeCompare(a.task_id) : b.created_at.localeCompare(a.created_at);

/**
 * Merges partition pages into the `limit` newest keys overall, and the positions after them.
 * Each partition is walked newest first and the newest head always goes first, so successive
 * pages list every task once, in order.
 */
export function mergePages(pages: PartitionPage[], previous: Positions, limit: number) {
  const taken = pages
    .flatMap((page) => page.keys)
    .sort(newestFirst)
    .slice(0, limit);
  const takenIds = new Set(taken.map((key) => key.task_id));
  const positions: Positions = { ...previous };
  for (const page of pages) {
    const consumed = page.keys.filter((key) => takenIds.has(key.task_id));
    if (consumed.length === page.keys.length && !page.hasMore) positions[page.partition] = 'done';
    else if (consumed.length > 0) positions[page.partition] = consumed.at(-1)!;
  }
  return { keys: taken, positions };
}

export function allDone(positions: Positions, partitions: string[]): boolean {
  return partitions.every((partition) => positions[partition] === 'done');
}
