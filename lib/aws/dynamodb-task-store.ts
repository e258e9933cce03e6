// The DynamoDB adapter of the TaskStore port: about 300 lines because the port has a dozen operations,
// each a short method; the item mapping (task-item.ts) and the transition writes (transition-update.ts) live beside it.
import { ConditionalCheckFailedException, DescribeTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DependencyUnavailableError } from '#lib/errors';
import { DEFAULT_DISPATCH_AHEAD_SECONDS } from '#lib/tasks/schedule';
import { chunks, sendChunks, sendUntilDone } from './batch-retry';
import { callDependency } from './dependency-call';
import { allDone, createdKey, CursorCodec, DUE_INDEX, dueKey, HAND_OFF_PARTITION, SHARD_PARTITIONS, UNPUBLISHED_INDEX, listIndexFor, mergePages, STATUS_INDEX, statusPartitions, statusShard, taskIdOf, type ListIndex, type PartitionPage } from './list-indexes';
import {
  batchItemKey,
  bodyKeysOf,
  idempotencyItemKey,
  placeResult,
  SUMMARY_ATTRIBUTES,
  toItems,
  appendToAttemptLog,
  failedEvent,
  toTask,
  toTaskSummary,
  toTaskWithBodies,
  type BatchItem,
  type BodyItem,
  callbackAttemptBegun,
  type IdempotencyItem,
  type TaskItem,
} from './task-item';
import { buildTransitionUpdate } from './transition-update';
import { messageOf, TASK_STATUSES, type BatchRef, type CallbackAttempt, type BatchVerdict, type Task, type TaskError, type TaskMessage, type TaskProgress, type StatusCounts, type TaskStatus, type TaskSummary } from '#lib/tasks/model';
import type { IdempotencyRecord, ListQuery, StalePosition, StatusChange, TaskPage, TaskStore, TransitionResult } from '#lib/tasks/ports';

/** BatchWriteItem takes at most 25 requests, BatchGetItem 100 keys. */
const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
/** Statements one PartiQL BatchExecuteStatement takes. */
const STATEMENT_BATCH_LIMIT = 25;
/** How many of a count's partition queries run at once. */
const COUNT_QUERIES_AT_ONCE = 16;
/** How long a batch's verdict is kept: past the longest a task of it can be held (a year) and its messages then live (retries, dead letters). */
const BATCH_RECORD_SECONDS = (365 + 14) * 24 * 60 * 60;
export const DEFAULT_RETENTION_DAYS = 30;

/** The message of a stored task: with its batch, so a task of a batch still runs only if that batch was committed. */
const messageOfItem = (item: TaskItem): TaskMessage =>
  messageOf(toTaskSummary(item), item.batch_id && item.batch_commit_by ? { id: item.batch_id, commit_by: item.batch_commit_by } : undefined);

/**
 * The DynamoDB implementation of the task store: one item per task, keyed by `task_id`, and an item
 * of their own for a payload or result too large to keep inline (task-item.ts), written once.
 */
export class DynamoDbTaskStore implements TaskStore {
  private readonly cursors: CursorCodec;
  private readonly retentionDays: number;
  private readonly dispatchAheadSeconds: number;

  /**
   * `retentionDays`: how long a final task is kept (TASK_RETENTION_DAYS); its final write sets the TTL to then.
   * `dispatchAheadSeconds`: a task due later than this after its submit is stored held (TASK_DISPATCH_AHEAD_SECONDS).
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    { retentionDays = DEFAULT_RETENTION_DAYS, dispatchAheadSeconds = DEFAULT_DISPATCH_AHEAD_SECONDS }: { retentionDays?: number; dispatchAheadSeconds?: number } = {},
  ) {
    this.cursors = new CursorCodec(tableName);
    this.retentionDays = retentionDays;
    this.dispatchAheadSeconds = dispatchAheadSeconds;
  }

  async create(task: Task): Promise<void> {
    const { item, payload } = toItems(task, this.retentionDays, this.dispatchAheadSeconds);
    // The payload first: a task item is never there without the payload it names.
    if (payload) await this.putAll([payload]);
    await callDependency('task store', () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(task_id)' })),
    );
  }

  /**
   * Writes new items (tasks of a batch, payload or result items) in BatchWriteItem calls of at most
   * 25, unprocessed ones retried. A body item left behind by a write that then failed is never read
   * (no task names it).
   */
  private async putAll(items: Array<TaskItem | BodyItem>): Promise<void> {
    // One item (a single submit's payload, a completion's result) is a PutItem: the functions that
    // write one are granted dynamodb:PutItem, not BatchWriteItem (serverless.yml).
    if (items.length === 1) {
      await callDependency('task store', () => this.client.send(new PutCommand({ TableName: this.tableName, Item: items[0] })));
      return;
    }
    await sendChunks(chunks(items, BATCH_WRITE_LIMIT), (chunk) =>
      sendUntilDone(
        'task store',
        chunk.map((item) => ({ PutRequest: { Item: item } })),
        async (requests) => {
          const { UnprocessedItems } = await callDependency('task store', () =>
            this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } })),
          );
          return (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        },
      ),
    );
  }

  /** The task of `item` whole: its payload (when `withPayload`) and result read from their own items where they are kept apart. */
  private async withBodies(item: TaskItem, { withPayload = true, withResult = true } = {}): Promise<Task> {
    const keys = bodyKeysOf(item);
    const wanted = [...(withPayload && keys.payload ? [keys.payload] : []), ...(withResult && keys.result ? [keys.result] : [])];
    if (wanted.length === 0) return toTask(item);
    const bodies = (await this.batchGet(wanted, { consistentRead: true })) as unknown as BodyItem[];
    const json = (key: string | undefined) => bodies.find((body) => body.task_id === key)?.json;
    return toTaskWithBodies(item, { payload: withPayload ? json(keys.payload) : undefined, result: withResult ? json(keys.result) : undefined });
  }

  async createMany(tasks: Task[], batch?: BatchRef): Promise<void> {
    const batchAttributes = batch ? { batch_id: batch.id, batch_commit_by: batch.commit_by } : {};
    const split = tasks.map((task) => toItems(task, this.retentionDays, this.dispatchAheadSeconds));
    // The payloads first: a task item is never there without the payload it names.
    await this.putAll(split.flatMap(({ payload }) => (payload ? [payload] : [])));
    await this.putAll(split.map(({ item }) => ({ ...item, ...batchAttributes })));
  }

  async createIdempotent(task: Task, record: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
    const recordKey = idempotencyItemKey(record.key);
    const item: IdempotencyItem = {
      task_id: recordKey,
      fingerprint: record.fingerprint,
      target_task_id: record.taskId,
      target_created_at: record.createdAt,
      expires_at: Math.ceil(record.expiresAt.getTime() / 1000),
    };
    const { item: taskItem, payload } = toItems(task, this.retentionDays, this.dispatchAheadSeconds);
    if (payload) await this.putAll([payload]);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: item,
                  // A record past its window counts as gone, even before TTL has deleted it.
                  ConditionExpression: 'attribute_not_exists(task_id) OR expires_at < :now',
                  ExpressionAttributeValues: { ':now': Math.floor(Date.parse(task.created_at) / 1000) },
                },
              },
              { Put: { TableName: this.tableName, Item: taskItem, ConditionExpression: 'attribute_not_exists(task_id)' } },
            ],
          }),
        );
        return undefined;
      } catch (error) {
        const reasons = (error as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code);
        if (!(error instanceof TransactionCanceledException)) throw new DependencyUnavailableError('task store', { cause: error });
        if (reasons?.[0] === 'ConditionalCheckFailed') {
          const { Item } = await callDependency('task store', () =>
            this.client.send(new GetCommand({ TableName: this.tableName, Key: { task_id: recordKey }, ConsistentRead: true })),
          );
          // Gone again (released or expired) between the write and the read: try the write again.
          if (Item) {
            const existing = Item as IdempotencyItem;
            return {
              key: record.key,
              fingerprint: existing.fingerprint,
              taskId: existing.target_task_id,
              createdAt: existing.target_created_at,
              expiresAt: new Date(existing.expires_at * 1000),
            };
          }
        }
        // A concurrent request with the same key holds the item (TransactionConflict): back off and retry.
        if (attempt >= 5) throw new DependencyUnavailableError('task store', { cause: error });
        await sleep(20 * 2 ** attempt);
      }
    }
  }

  async createRetry(retry: Task & { retry_of: string }): Promise<{ applied: true } | { applied: false; current?: Task }> {
    const { item, payload } = toItems(retry, this.retentionDays, this.dispatchAheadSeconds);
    if (payload) await this.putAll([payload]);
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(task_id)' } },
            {
              // Not a status move: the FAILED task keeps its status, error and TTL; only who retries it is added.
              Update: {
                TableName: this.tableName,
                Key: { task_id: retry.retry_of },
                UpdateExpression: 'SET retried_as = :retry, updated_at = :at',
                ConditionExpression: '#status = :failed AND attribute_not_exists(retried_as)',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':retry': retry.task_id, ':at': retry.created_at, ':failed': 'FAILED' },
              },
            },
          ],
        }),
      );
      return { applied: true };
    } catch (error) {
      const reasons = (error as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code);
      if (!(error instanceof TransactionCanceledException) || reasons?.[1] !== 'ConditionalCheckFailed') {
        throw new DependencyUnavailableError('task store', { cause: error });
      }
      const current = await this.get(retry.retry_of);
      return { applied: false, ...(current ? { current } : {}) };
    }
  }

  async releaseIdempotencyKey(key: string, taskId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { task_id: idempotencyItemKey(key) },
          ConditionExpression: 'target_task_id = :task',
          ExpressionAttributeValues: { ':task': taskId },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      throw new DependencyUnavailableError('task store', { cause: error });
    }
  }

  async get(taskId: string): Promise<Task | undefined> {
    const { Item } = await callDependency('task store', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { task_id: taskId }, ConsistentRead: true })),
    );
    return Item ? this.withBodies(Item as TaskItem) : undefined;
  }

  async getStatuses(taskIds: string[]): Promise<Map<string, TaskStatus>> {
    // Eventually consistent: half the read units, and polled every second by every running batch.
    const items = await this.batchGet(taskIds, { consistentRead: false, projection: ['task_id', 'status'] });
    return new Map(items.map((item) => [item.task_id, item.status]));
  }

  /**
   * The moved task comes back whole for the moves whose callers read it (a claim needs the payload
   * to work on, a cancel answers the task); after the others, a payload or result kept apart is not
   * read again (the completion's own result is filled in).
   */
  async transition(taskId: string, change: StatusChange): Promise<TransitionResult> {
    const writeId = randomUUID();
    const result = change.to === 'COMPLETED' ? placeResult(taskId, change.attempt, change.result, this.retentionDays) : undefined;
    // A result kept apart goes to its attempt's own item first; a completion then refused leaves it unread.
    if (result && 'apart' in result) await this.putAll([result.apart]);
    const whole = (item: TaskItem) =>
      change.to === 'COMPLETED'
        ? { ...toTask(item), result: (change.result ?? null) as Task['result'] }
        : change.to === 'PROCESSING' || change.to === 'CANCELED'
          ? this.withBodies(item, { withResult: change.to === 'CANCELED' })
          : toTask(item);
    try {
      const { Attributes } = await this.client.send(buildTransitionUpdate(this.tableName, taskId, change, writeId, { result, retentionDays: this.retentionDays }));
      return { applied: true, task: await whole(Attributes as TaskItem) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // The old item comes back in attribute-value form even through the document client.
        if (!error.Item) return { applied: false };
        const item = unmarshall(error.Item) as TaskItem;
        // The SDK retried a write whose answer was lost (a timeout under load): the first attempt did apply.
        if (item.write_id === writeId) return { applied: true, task: await whole(item) };
        return {
          applied: false,
          current: change.to === 'CANCELED' ? await this.withBodies(item) : toTask(item),
          ...(item.lease_expires_at ? { leaseExpiresAt: new Date(item.lease_expires_at) } : {}),
        };
      }
      throw new DependencyUnavailableError('task store', { cause: error });
    }
  }

  async releaseLease(taskId: string, attempt: number, at: Date, error: TaskError): Promise<void> {
    // Refused when another attempt holds the task now, or it is final: nothing of ours to release.
    const append = appendToAttemptLog(failedEvent(attempt, at, error));
    await this.updateIf(taskId, {
      UpdateExpression: `SET lease_expires_at = :at, last_error = :error, ${append.expression}`,
      ConditionExpression: '#status = :processing AND attempts = :attempt',
      ExpressionAttributeNames: append.names,
      ExpressionAttributeValues: { ':at': at.toISOString(), ':error': error, ':processing': 'PROCESSING', ':attempt': attempt, ...append.values },
    });
  }

  async findUnfinishedCreatedBefore(before: Date, limit: number, after?: StalePosition): Promise<StalePosition[]> {
    const pages = await Promise.all(statusPartitions(['PENDING', 'PROCESSING']).map((partition) => this.queryStale(partition, before, limit, after)));
    // Each partition gives its own oldest; the oldest overall come from the merge, not from the shard order.
    return pages
      .flat()
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.taskId.localeCompare(b.taskId))
      .slice(0, limit);
  }

  /** One partition's oldest tasks created before `before`, after `after` in `created_key` order. */
  private async queryStale(partition: string, before: Date, limit: number, after?: StalePosition): Promise<StalePosition[]> {
    const from = after && createdKey(after.createdAt, after.taskId);
    const result = await callDependency('task store', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: STATUS_INDEX,
          // A created_key of that very instant sorts after the bare timestamp: `<` keeps strictly older tasks.
          KeyConditionExpression: from
            ? 'status_shard = :partition AND created_key BETWEEN :from AND :before'
            : 'status_shard = :partition AND created_key < :before',
          ExpressionAttributeValues: { ':partition': partition, ':before': before.toISOString(), ...(from ? { ':from': from } : {}) },
          ScanIndexForward: true,
          // One more for `after` itself, which BETWEEN includes and is dropped below.
          Limit: limit + 1,
        }),
      ),
    );
    return ((result.Items ?? []) as Array<Pick<TaskItem, 'created_key'>>)
      .map((item) => item.created_key)
      .filter((key) => key !== from && key < before.toISOString())
      .map((key) => ({ taskId: taskIdOf(key), createdAt: key.slice(0, key.indexOf('#')) }));
  }

  async markRequeued(taskId: string, at: Date, requeuedBefore: Date): Promise<TaskMessage | undefined> {
    const item = await this.updateIf(taskId, {
      UpdateExpression: 'SET requeued_at = :at',
      ConditionExpression:
        '(#status = :pending OR (#status = :processing AND lease_expires_at < :at)) AND ' +
        '(attribute_not_exists(requeued_at) OR requeued_at < :requeued_before) AND ' +
        // A delayed task is stale a stale period after it was due, not after its submit.
        '(attribute_not_exists(run_at) OR run_at < :requeued_before)',
      ExpressionAttributeValues: {
        ':at': at.toISOString(),
        ':pending': 'PENDING',
        ':processing': 'PROCESSING',
        ':requeued_before': requeuedBefore.toISOString(),
      },
    });
    return item && messageOfItem(item);
  }

  async findDue(until: Date, limit: number): Promise<string[]> {
    // `$` sorts right after the `#` of a due_key: every key of a run_at up to `until` is below the bound.
    const keys = await this.oldestKeysBelow({ index: DUE_INDEX, partitionKey: 'due_shard', sortKey: 'due_key' }, `${until.toISOString()}$`, limit);
    return keys.map(taskIdOf);
  }

  /**
   * The `limit` lowest sort keys below `bound` of a sparse index spread over the 16 shards: each
   * shard's lowest, merged, so the oldest overall come first whatever their shard.
   */
  private async oldestKeysBelow(
    { index, partitionKey, sortKey }: { index: string; partitionKey: 'due_shard' | 'event_shard'; sortKey: 'due_key' | 'event_key' },
    bound: string,
    limit: number,
  ): Promise<string[]> {
    const pages = await Promise.all(
      SHARD_PARTITIONS.map(async (partition) => {
        const result = await callDependency('task store', () =>
          this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: index,
              KeyConditionExpression: `${partitionKey} = :partition AND ${sortKey} < :bound`,
              ExpressionAttributeValues: { ':partition': partition, ':bound': bound },
              ScanIndexForward: true,
              Limit: limit,
            }),
          ),
        );
        return ((result.Items ?? []) as TaskItem[]).map((item) => item[sortKey]!);
      }),
    );
    return pages.flat().sort().slice(0, limit);
  }

  async markDispatched(taskId: string): Promise<TaskMessage | undefined> {
    const item = await this.updateIf(taskId, {
      UpdateExpression: 'SET status_shard = :queued REMOVE due_shard, due_key',
      ConditionExpression: '#status = :pending AND attribute_exists(due_shard)',
      ExpressionAttributeValues: { ':queued': statusShard('PENDING', taskId), ':pending': 'PENDING' },
    });
    return item && messageOfItem(item);
  }

  async recordProgress(taskId: string, attempt: number, progress: TaskProgress): Promise<boolean> {
    // Only the attempt at work may report: a late report of a lost attempt, or one after the task ended, changes nothing.
    const item = await this.updateIf(taskId, {
      UpdateExpression: 'SET progress = :progress, updated_at = :at',
      ConditionExpression: '#status = :processing AND attempts = :attempt',
      ExpressionAttributeValues: { ':progress': progress, ':at': progress.updated_at, ':processing': 'PROCESSING', ':attempt': attempt },
    });
    return item !== undefined;
  }

  async settleBatch(batchId: string, verdict: BatchVerdict, handOff?: TaskMessage[]): Promise<BatchVerdict> {
    const key = batchItemKey(batchId);
    const item: BatchItem = {
      task_id: key,
      batch_verdict: verdict,
      expires_at: Math.ceil(Date.now() / 1000) + BATCH_RECORD_SECONDS,
      ...(handOff && handOff.length > 0 ? { hand_off_json: JSON.stringify(handOff), due_shard: HAND_OFF_PARTITION, due_key: dueKey(new Date().toISOString(), key) } : {}),
    };
    try {
      await callDependency('task store', () =>
        this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(task_id)' })),
      );
      return verdict;
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError && error.cause instanceof ConditionalCheckFailedException)) throw error;
      // The batch has a verdict already (another's, or this same write applied by an attempt whose answer was lost).
      const existing = await this.batchVerdict(batchId);
      if (!existing) throw error;
      return existing;
    }
  }

  async takeHandOffs(limit: number): Promise<TaskMessage[]> {
    const { Items = [] } = await callDependency('task store', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'due_shard = :partition',
          ExpressionAttributeValues: { ':partition': HAND_OFF_PARTITION },
          ScanIndexForward: true,
          Limit: limit,
        }),
      ),
    );
    const taken = await Promise.all(
      (Items as BatchItem[]).map(async ({ task_id }) => {
        try {
          // Out of the partition and its messages dropped in one conditional write: two takers never both send them.
          const { Attributes } = await callDependency('task store', () =>
            this.client.send(
              new UpdateCommand({
                TableName: this.tableName,
                Key: { task_id },
                UpdateExpression: 'REMOVE due_shard, due_key, hand_off_json',
                ConditionExpression: 'attribute_exists(hand_off_json)',
                ReturnValues: 'ALL_OLD',
              }),
            ),
          );
          return JSON.parse((Attributes as BatchItem).hand_off_json!) as TaskMessage[];
        } catch (error) {
          if (error instanceof DependencyUnavailableError && error.cause instanceof ConditionalCheckFailedException) return [];
          throw error;
        }
      }),
    );
    return taken.flat();
  }

  async batchVerdict(batchId: string): Promise<BatchVerdict | undefined> {
    const { Item } = await callDependency('task store', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { task_id: batchItemKey(batchId) }, ConsistentRead: true })),
    );
    return (Item as BatchItem | undefined)?.batch_verdict;
  }

  /** One conditional update of a task that is not a status move (`#status` names the status): the item as written, undefined when its condition refused it. */
  private async updateIf(
    taskId: string,
    { ExpressionAttributeNames, ExpressionAttributeValues, ...update }: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> },
  ): Promise<TaskItem | undefined> {
    // DynamoDB refuses a name or value map that holds one the expressions do not use, and an empty one.
    const usesStatus = /#status\b/.test(`${update.UpdateExpression} ${update.ConditionExpression}`);
    const names = { ...(usesStatus ? { '#status': 'status' } : {}), ...ExpressionAttributeNames };
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { task_id: taskId },
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ...(Object.keys(ExpressionAttributeValues).length > 0 ? { ExpressionAttributeValues } : {}),
          ReturnValues: 'ALL_NEW',
          ...update,
        }),
      );
      return Attributes as TaskItem;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw new DependencyUnavailableError('task store', { cause: error });
    }
  }

  async list({ status, kind, limit, cursor }: ListQuery): Promise<TaskPage> {
    const index = listIndexFor(status, kind);
    const previous = cursor ? this.cursors.decode(cursor, status, kind) : {};
    const pages = await Promise.all(
      index.partitions
        .filter((partition) => previous[partition] !== 'done')
        .map((partition) => this.queryPartition(index, partition, limit, previous[partition])),
    );
    const { keys, positions } = mergePages(pages, previous, limit);
    const tasks = await this.getSummaries(keys.map(taskIdOf));
    return {
      // The index lags the table a little: a task that left the status since did not have it throughout the walk.
      // A walk of a kind reads all its statuses: the status filter is applied here.
      tasks: status ? tasks.filter((task) => task.status === status) : tasks,
      nextCursor: allDone(positions, index.partitions) ? null : this.cursors.encode(status, positions, kind),
    };
  }

  private async queryPartition(index: ListIndex, partition: string, limit: number, after?: string): Promise<PartitionPage> {
    const result = await callDependency('task store', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#partition = :partition',
          ExpressionAttributeNames: { '#partition': index.partitionKey },
          ExpressionAttributeValues: { ':partition': partition },
          ScanIndexForward: false,
          Limit: limit,
          ...(after ? { ExclusiveStartKey: { task_id: taskIdOf(after), [index.partitionKey]: partition, created_key: after } } : {}),
        }),
      ),
    );
    const items = (result.Items ?? []) as Array<Pick<TaskItem, 'created_key'>>;
    return { partition, keys: items.map((item) => item.created_key), hasMore: result.LastEvaluatedKey !== undefined };
  }

  async findUnpublished(before: Date, limit: number): Promise<Array<{ taskId: string; endedAt: string }>> {
    const keys = await this.oldestKeysBelow({ index: UNPUBLISHED_INDEX, partitionKey: 'event_shard', sortKey: 'event_key' }, before.toISOString(), limit);
    return keys.map((key) => ({ taskId: taskIdOf(key), endedAt: key.slice(0, key.indexOf('#')) }));
  }

  async markPublished(taskIds: string[]): Promise<void> {
    // PartiQL's batch: 25 conditional updates in one call where UpdateItem takes one (BatchWriteItem
    // has no conditions), each billed as its own write. An UPDATE never creates the item it names: a
    // task that is gone (expired) answers ConditionalCheckFailed, which leaves nothing to do.
    const statement = `UPDATE "${this.tableName}" REMOVE event_shard REMOVE event_key WHERE task_id = ?`;
    await sendChunks(chunks(taskIds, STATEMENT_BATCH_LIMIT), (chunk) =>
      sendUntilDone('task store', chunk, async (ids) => {
        const { Responses = [] } = await callDependency('task store', () =>
          this.client.send(new BatchExecuteStatementCommand({ Statements: ids.map((taskId) => ({ Statement: statement, Parameters: [taskId] })) })),
        );
        return ids.filter((_, index) => {
          const code = Responses[index]?.Error?.Code;
          return code !== undefined && code !== 'ConditionalCheckFailed';
        });
      }),
    );
  }

  async beginCallbackAttempt(taskId: string, at: Date, maxAttempts: number): Promise<number | undefined> {
    // An append is no idempotent write: the token tells a retry by the SDK (its first write applied,
    // its answer lost) from a new attempt, so a lost answer never takes a second attempt.
    const token = randomUUID();
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { task_id: taskId },
          UpdateExpression: 'SET callback_log = list_append(if_not_exists(callback_log, :none), :begun), callback_token = :token',
          ConditionExpression:
            'attribute_exists(callback_url) AND attribute_not_exists(callback_state) AND ' +
            '(attribute_not_exists(callback_log) OR size(callback_log) < :max) AND ' +
            '(attribute_not_exists(callback_token) OR callback_token <> :token)',
          ExpressionAttributeValues: { ':none': [], ':begun': [callbackAttemptBegun(at)], ':max': maxAttempts, ':token': token },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return (Attributes as TaskItem).callback_log?.length;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const item = error.Item ? (unmarshall(error.Item) as TaskItem) : undefined;
        return item?.callback_token === token ? item.callback_log?.length : undefined;
      }
      throw new DependencyUnavailableError('task store', { cause: error });
    }
  }

  async giveUpCallback(taskId: string): Promise<void> {
    await this.updateIf(taskId, {
      UpdateExpression: 'SET callback_state = :gave_up',
      ConditionExpression: 'attribute_exists(callback_url) AND attribute_not_exists(callback_state)',
      ExpressionAttributeValues: { ':gave_up': 'GAVE_UP' },
    });
  }

  async recordCallbackAttempt(taskId: string, { attempt, ...outcome }: CallbackAttempt, state?: 'DELIVERED' | 'GAVE_UP'): Promise<void> {
    // The attempt's own place in the log, taken when it began (its number is its place).
    await this.updateIf(taskId, {
      UpdateExpression: `SET callback_log[${attempt - 1}] = :outcome${state ? ', callback_state = :state' : ''}`,
      ConditionExpression: 'size(callback_log) >= :attempt',
      ExpressionAttributeValues: { ':outcome': outcome, ':attempt': attempt, ...(state ? { ':state': state } : {}) },
    });
  }

  async getSummaries(taskIds: string[]): Promise<TaskSummary[]> {
    const items = await this.batchGet(taskIds, { consistentRead: true, projection: [...SUMMARY_ATTRIBUTES] });
    const found = new Map(items.map((item) => [item.task_id, toTaskSummary(item)]));
    return taskIds.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  /** The items of `taskIds` that exist, in no particular order, in BatchGetItem calls of at most 100 keys, unprocessed keys retried. */
  private async batchGet(taskIds: string[], { consistentRead, projection }: { consistentRead: boolean; projection?: Array<keyof TaskItem> }): Promise<TaskItem[]> {
    const items: TaskItem[] = [];
    const projected = projection
      ? {
          ProjectionExpression: projection.map((field) => `#${field}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(projection.map((field) => [`#${field}`, field])),
        }
      : {};
    for (const chunk of chunks(taskIds, BATCH_GET_LIMIT)) {
      await sendUntilDone('task store', chunk.map((task_id) => ({ task_id })), async (keys) => {
        const result = await callDependency('task store', () =>
          this.client.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: consistentRead, ...projected } } }),
          ),
        );
        items.push(...((result.Responses?.[this.tableName] ?? []) as TaskItem[]));
        return (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
      });
    }
    return items;
  }

  /**
   * Counts each status's partitions of the keys-only status index (Select COUNT reads the index
   * entries and returns none of them): 100,000 tasks took 1,700 read units as DynamoDB Local
   * reports them (`npm run bench -- --phases counts`; docs/architecture.md, "Counting tasks").
   */
  async countByStatus(): Promise<StatusCounts> {
    // 96 partitions, 16 at a time: all at once, a busy container (or DynamoDB Local on a loaded machine)
    // meets connection timeouts before the first answers, for no gain in the count's time.
    const limit = pLimit(COUNT_QUERIES_AT_ONCE);
    const perStatus = await Promise.all(
      TASK_STATUSES.map(async (status) => {
        const partitions = await Promise.all(listIndexFor(status).partitions.map((partition) => limit(() => this.countPartition(partition))));
        return [status, partitions.reduce((sum, count) => sum + count, 0)] as const;
      }),
    );
    return Object.fromEntries(perStatus) as StatusCounts;
  }

  private async countPartition(partition: string): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await callDependency('task store', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: STATUS_INDEX,
            KeyConditionExpression: 'status_shard = :partition',
            ExpressionAttributeValues: { ':partition': partition },
            Select: 'COUNT',
            ExclusiveStartKey: start,
          }),
        ),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async ping(): Promise<void> {
    await callDependency('task store', () => this.client.send(new DescribeTableCommand({ TableName: this.tableName })));
  }

}
