import { DependencyUnavailableError } from '#lib/errors';
import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import { JsonValueSchema, messageOf, TASK_STATUSES, type BatchRef, type CallbackAttempt, type TaskSummary, type StatusCounts, type BatchVerdict, type Task, type TaskError, type TaskMessage, type TaskProgress, type TaskStatus } from '#lib/tasks/model';
import { addMinute, emptyMinute, type MinuteActivity } from '#lib/tasks/activity';
import type {
  ActivityLog,
  IdempotencyRecord,
  ListQuery,
  StalePosition,
  StatusChange,
  TaskCount,
  TaskDuration,
  TaskMetrics,
  TaskPage,
  TaskQueue,
  TaskStore,
  TransitionResult,
} from '#lib/tasks/ports';
import { InvalidCursorError } from '#lib/tasks/errors';
import { createKindRegistry, defineTaskKind, DEFAULT_KIND, type AnyTaskKind, type KindRegistry } from '#lib/tasks/kind';
import { simulatedKind } from '#lib/tasks/work';
import { z } from 'zod';
import { sourcesOf } from '#lib/tasks/transitions';
import { DEFAULT_DISPATCH_AHEAD_SECONDS, isDue, isHeld } from '#lib/tasks/schedule';

type Stored = { task: Task; leaseExpiresAt?: Date; batch?: BatchRef; held?: boolean; unpublishedSince?: string };

/** An in-memory task store with the DynamoDB store's conditions, for unit tests. */
export class InMemoryTaskStore implements TaskStore {
  readonly items = new Map<string, Stored>();
  /** When set, every call fails as DynamoDB does when it is unreachable. */
  down = false;
  /** Batched status reads made: what the cancellation watcher test counts. */
  calls = { getStatuses: 0 };

  constructor(private readonly dispatchAheadSeconds = DEFAULT_DISPATCH_AHEAD_SECONDS) {}

  async create(task: Task): Promise<void> {
    this.guard();
    if (this.items.has(task.task_id)) throw new Error(`duplicate ${task.task_id}`);
    this.items.set(task.task_id, { task: structuredClone(task), ...(isHeld(task, this.dispatchAheadSeconds) ? { held: true } : {}) });
  }

  async createMany(tasks: Task[], batch?: BatchRef): Promise<void> {
    this.guard();
    for (const task of tasks) {
      await this.create(task);
      if (batch) this.items.get(task.task_id)!.batch = batch;
    }
  }

  readonly batches = new Map<string, BatchVerdict>();

  /** Refused batches' messages left for the dispatcher, in the order they were left. */
  readonly handOffs = new Map<string, TaskMessage[]>();

  async settleBatch(batchId: string, verdict: BatchVerdict, handOff?: TaskMessage[]): Promise<BatchVerdict> {
    this.guard();
    if (!this.batches.has(batchId)) {
      this.batches.set(batchId, verdict);
      if (handOff && handOff.length > 0) this.handOffs.set(batchId, structuredClone(handOff));
    }
    return this.batches.get(batchId)!;
  }

  async takeHandOffs(limit: number): Promise<TaskMessage[]> {
    this.guard();
    const taken = [...this.handOffs.entries()].slice(0, limit);
    for (const [batchId] of taken) this.handOffs.delete(batchId);
    return taken.flatMap(([, messages]) => messages);
  }

  async batchVerdict(batchId: string): Promise<BatchVerdict | undefined> {
    this.guard();
    return this.batches.get(batchId);
  }

  readonly idempotency = new Map<string, IdempotencyRecord>();

  async createIdempotent(task: Task, record: IdempotencyRecord): Promise<IdempotencyRecord | undefined> {
    this.guard();
    const existing = this.idempotency.get(record.key);
    if (existing && existing.expiresAt.toISOString() >= task.created_at) return { ...existing };
    this.idempotency.set(record.key, { ...record });
    await this.create(task);
    return undefined;
  }

  async releaseIdempotencyKey(key: string, taskId: string): Promise<void> {
    this.guard();
    if (this.idempotency.get(key)?.taskId === taskId) this.idempotency.delete(key);
  }

  async get(taskId: string): Promise<Task | undefined> {
    this.guard();
    const stored = this.items.get(taskId);
    return stored && structuredClone(stored.task);
  }

  async getStatuses(taskIds: string[]): Promise<Map<string, TaskStatus>> {
    this.calls.getStatuses++;
    this.guard();
    return new Map(taskIds.flatMap((id) => (this.items.has(id) ? [[id, this.items.get(id)!.task.status] as const] : [])));
  }

  async transition(taskId: string, change: StatusChange): Promise<TransitionResult> {
    this.guard();
    const stored = this.items.get(taskId);
    if (!stored) return { applied: false };
    const { task } = stored;
    let allowed = sourcesOf(change.to).includes(task.status);
    if (change.to === 'PROCESSING' && task.status === 'PROCESSING' && stored.leaseExpiresAt) {
      allowed ||= stored.leaseExpiresAt < change.at;
    }
    if (change.to === 'PROCESSING') allowed &&= task.attempts < change.maxAttempts && isDue(task, change.at);
    if (change.to === 'COMPLETED') allowed &&= task.attempts === change.attempt;
    if (change.to === 'FAILED' && change.unlessLeased && stored.leaseExpiresAt) allowed &&= stored.leaseExpiresAt < change.at;
    if (change.to === 'FAILED' && change.attempt !== undefined) allowed &&= task.attempts === change.attempt;
    if (!allowed) {
      return {
        applied: false,
        current: structuredClone(task),
        ...(stored.leaseExpiresAt ? { leaseExpiresAt: stored.leaseExpiresAt } : {}),
      };
    }
    const at = change.at.toISOString();
    task.status = change.to;
    task.updated_at = at;
    delete stored.leaseExpiresAt;
    delete stored.held;
    if (change.to !== 'PROCESSING') stored.unpublishedSince = at;
    switch (change.to) {
      case 'PROCESSING':
        task.attempts += 1;
        task.started_at = at;
        stored.leaseExpiresAt = change.leaseExpiresAt;
        break;
      case 'COMPLETED':
        task.completed_at = at;
        task.result = (change.result ?? null) as Task['result'];
        if (change.progress) task.progress = change.progress;
        break;
      case 'CANCELED':
        task.canceled_at = at;
        break;
      case 'FAILED':
        task.error = change.error;
        break;
    }
    return { applied: true, task: structuredClone(task) };
  }

  async getSummaries(taskIds: string[]): Promise<TaskSummary[]> {
    this.guard();
    return taskIds.flatMap((id) => {
      const stored = this.items.get(id);
      if (!stored) return [];
      const { payload: _payload, result: _result, attempt_history: _history, callback_attempts: _attempts, ...summary } = structuredClone(stored.task);
      return [summary];
    });
  }

  async findUnpublished(before: Date, limit: number): Promise<Array<{ taskId: string; endedAt: string }>> {
    this.guard();
    return [...this.items.values()]
      .filter((stored) => stored.unpublishedSince !== undefined && stored.unpublishedSince < before.toISOString())
      .sort((a, b) => a.unpublishedSince!.localeCompare(b.unpublishedSince!))
      .slice(0, limit)
      .map((stored) => ({ taskId: stored.task.task_id, endedAt: stored.unpublishedSince! }));
  }

  async markPublished(taskIds: string[]): Promise<void> {
    this.guard();
    for (const id of taskIds) {
      const stored = this.items.get(id);
      if (stored) delete stored.unpublishedSince;
    }
  }

  async beginCallbackAttempt(taskId: string, at: Date, maxAttempts: number): Promise<number | undefined> {
    this.guard();
    const task = this.items.get(taskId)?.task;
    if (!task || task.callback_url === null || task.callback_state !== 'PENDING' || task.callback_attempts.length >= maxAttempts) return undefined;
    const attempt = task.callback_attempts.length + 1;
    task.callback_attempts.push({ attempt, at: at.toISOString(), duration_ms: 0, status_code: null, error: 'underway' });
    return attempt;
  }

  async giveUpCallback(taskId: string): Promise<void> {
    this.guard();
    const task = this.items.get(taskId)?.task;
    if (task && task.callback_url !== null && task.callback_state === 'PENDING') task.callback_state = 'GAVE_UP';
  }

  async recordCallbackAttempt(taskId: string, attempt: CallbackAttempt, state?: 'DELIVERED' | 'GAVE_UP'): Promise<void> {
    this.guard();
    const task = this.items.get(taskId)?.task;
    if (!task || task.callback_attempts.length < attempt.attempt) return;
    task.callback_attempts[attempt.attempt - 1] = attempt;
    if (state) task.callback_state = state;
  }

  readonly requeuedAt = new Map<string, Date>();

  async markRequeued(taskId: string, at: Date, requeuedBefore: Date): Promise<TaskMessage | undefined> {
    this.guard();
    const stored = this.items.get(taskId);
    if (!stored) return undefined;
    const needsIt =
      stored.task.status === 'PENDING' || (stored.task.status === 'PROCESSING' && (stored.leaseExpiresAt ?? at) < at);
    const last = this.requeuedAt.get(taskId);
    const staleSinceDue = stored.task.run_at === null || stored.task.run_at < requeuedBefore.toISOString();
    if (!needsIt || stored.held || !staleSinceDue || (last && last >= requeuedBefore)) return undefined;
    this.requeuedAt.set(taskId, at);
    return messageOf(stored.task, stored.batch);
  }

  async findDue(until: Date, limit: number): Promise<string[]> {
    this.guard();
    return [...this.items.values()]
      .filter((stored) => stored.held && stored.task.run_at! <= until.toISOString())
      .sort((a, b) => a.task.run_at!.localeCompare(b.task.run_at!) || a.task.task_id.localeCompare(b.task.task_id))
      .slice(0, limit)
      .map((stored) => stored.task.task_id);
  }

  async markDispatched(taskId: string): Promise<TaskMessage | undefined> {
    this.guard();
    const stored = this.items.get(taskId);
    if (!stored?.held || stored.task.status !== 'PENDING') return undefined;
    delete stored.held;
    return messageOf(stored.task, stored.batch);
  }

  readonly progressWrites: Array<{ taskId: string; progress: TaskProgress }> = [];

  async recordProgress(taskId: string, attempt: number, progress: TaskProgress): Promise<boolean> {
    this.guard();
    const stored = this.items.get(taskId);
    if (stored?.task.status !== 'PROCESSING' || stored.task.attempts !== attempt) return false;
    this.progressWrites.push({ taskId, progress });
    stored.task.progress = progress;
    stored.task.updated_at = progress.updated_at;
    return true;
  }

  async releaseLease(taskId: string, attempt: number, at: Date, error: TaskError): Promise<void> {
    this.guard();
    const stored = this.items.get(taskId);
    if (stored?.task.status === 'PROCESSING' && stored.task.attempts === attempt) {
      stored.leaseExpiresAt = at;
      stored.task.last_error = error;
    }
  }

  async list({ status, kind, limit, cursor }: ListQuery): Promise<TaskPage> {
    this.guard();
    const after = cursor === undefined ? undefined : this.decode(cursor);
    const key = (task: Pick<Task, 'created_at' | 'task_id'>) => `${task.created_at}|${task.task_id}`;
    const sorted = [...this.items.values()]
      .map(({ task }) => task)
      .filter((task) => (!status || task.status === status) && (!kind || task.kind === kind))
      .sort((a, b) => key(b).localeCompare(key(a)))
      .filter((task) => after === undefined || key(task) < after);
    const tasks = sorted.slice(0, limit).map(({ payload, result, attempt_history, ...summary }) => structuredClone(summary));
    const last = tasks.at(-1);
    return { tasks, nextCursor: sorted.length > limit && last ? Buffer.from(key(last)).toString('base64url') : null };
  }

  private decode(cursor: string): string {
    const decoded = Buffer.from(cursor, 'base64url').toString();
    if (!decoded.includes('|')) throw new InvalidCursorError('is not a cursor this API issued');
    return decoded;
  }

  async findUnfinishedCreatedBefore(before: Date, limit: number, after?: StalePosition): Promise<StalePosition[]> {
    this.guard();
    const position = (p: StalePosition) => `${p.createdAt}|${p.taskId}`;
    return [...this.items.values()]
      .filter(({ task }) => ['PENDING', 'PROCESSING'].includes(task.status) && task.created_at < before.toISOString())
      .map(({ task }) => ({ taskId: task.task_id, createdAt: task.created_at }))
      .filter((candidate) => !after || position(candidate) > position(after))
      .sort((a, b) => position(a).localeCompare(position(b)))
      .slice(0, limit);
  }

  async createRetry(retry: Task & { retry_of: string }): Promise<{ applied: true } | { applied: false; current?: Task }> {
    this.guard();
    const original = this.items.get(retry.retry_of);
    if (!original || original.task.status !== 'FAILED' || original.task.retried_as !== null) {
      return { applied: false, ...(original ? { current: structuredClone(original.task) } : {}) };
    }
    // Both writes at once, with no await between the check and them: the store's transaction.
    this.items.set(retry.task_id, { task: structuredClone(retry) });
    original.task = { ...original.task, retried_as: retry.task_id, updated_at: retry.created_at };
    return { applied: true };
  }

  async countByStatus(): Promise<StatusCounts> {
    this.guard();
    const counts = Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as StatusCounts;
    for (const { task } of this.items.values()) counts[task.status] += 1;
    return counts;
  }

  async ping(): Promise<void> {
    this.guard();
  }

  private guard() {
    if (this.down) throw new DependencyUnavailableError('task store', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8000') });
  }
}

/** An in-memory queue that records what was sent and what was postponed. */
export class InMemoryTaskQueue implements TaskQueue {
  readonly messages: TaskMessage[] = [];
  readonly retries: Array<{ receiptHandle: string; delaySeconds: number }> = [];
  down = false;

  async enqueue(message: TaskMessage): Promise<void> {
    this.guard();
    this.messages.push(message);
  }

  async enqueueAll(messages: TaskMessage[]): Promise<void> {
    this.guard();
    this.messages.push(...messages);
  }

  async retryAfter(receiptHandle: string, delaySeconds: number): Promise<void> {
    this.guard();
    this.retries.push({ receiptHandle, delaySeconds });
  }

  async ping(): Promise<void> {
    this.guard();
  }

  private guard() {
    if (this.down) {
      throw new DependencyUnavailableError('task queue', {
        cause: new Error('AWS.SimpleQueueService.NonExistentQueue: arn:aws:sqs:secret'),
      });
    }
  }
}

/** Minutes of activity summed in memory, as the DynamoDB log's ADD sums them. */
export class InMemoryActivityLog implements ActivityLog {
  readonly minutes = new Map<string, MinuteActivity>();
  async add(minutes: MinuteActivity[]): Promise<void> {
    for (const entry of minutes) {
      const held = this.minutes.get(entry.minute) ?? emptyMinute(entry.minute);
      addMinute(held, entry);
      this.minutes.set(entry.minute, held);
    }
  }
  async read(minutes: string[]): Promise<MinuteActivity[]> {
    return minutes.flatMap((minute) => {
      const held = this.minutes.get(minute);
      return held ? [structuredClone(held)] : [];
    });
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-23T09:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export const silentLogger: AppLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  appendKeys: () => undefined,
};

/** Metrics that remember what was reported. */
export class RecordingMetrics implements TaskMetrics {
  readonly counts: Record<string, number> = {};
  readonly durations: Record<string, number[]> = {};
  count(metric: TaskCount, value = 1): void {
    this.counts[metric] = (this.counts[metric] ?? 0) + value;
  }
  duration(metric: TaskDuration, milliseconds: number): void {
    (this.durations[metric] ??= []).push(milliseconds);
  }
}

/** What a test's stand-in for a kind's work sees: the task as stored, and the attempt's signal. */
export type TaskWork = (task: Task, signal: AbortSignal) => Promise<unknown>;

/**
 * A registry of one kind, the default, whose work is `work` given the task as stored (read from
 * `store`): how the processor's tests put work of their own in the simulated job's place.
 */
export function kindsRunning(
  store: Pick<TaskStore, 'get'>,
  work: TaskWork,
  settings: Partial<Pick<AnyTaskKind, 'timeoutSeconds' | 'attempts' | 'concurrency' | 'retryBaseDelaySeconds'>> = {},
): KindRegistry {
  return createKindRegistry([
    defineTaskKind({
      name: DEFAULT_KIND,
      description: 'A test stand-in',
      payload: JsonValueSchema.optional(),
      result: z.unknown(),
      timeoutSeconds: 60,
      ...settings,
      async run(_payload, { taskId, signal }) {
        const task = await store.get(taskId);
        if (!task) throw new Error(`no task ${taskId}`);
        return work(task, signal);
      },
    }),
  ]);
}

/** The registry of the simulated job alone, with these settings. */
export const simulatedKinds = (workMs: number, options: { simulation?: boolean } = {}) => createKindRegistry([simulatedKind(workMs, options)]);
