import type { MinuteActivity } from './activity';
import type { CallbackDelivery, CompletionEvent } from './completion-events';
import type { BatchRef, BatchVerdict, CallbackAttempt, StatusCounts, Task, TaskError, TaskMessage, TaskPriority, TaskProgress, TaskStatus, TaskSummary } from './model';

/**
 * One status move, with what it records. The store turns each into a single conditional write
 * whose condition comes from the transition table (`sourcesOf(to)`), never from a hand-written list.
 */
export type StatusChange =
  /**
   * Claim a task for work: `attempts + 1`, `started_at`, and a lease; also takes over a PROCESSING
   * task whose lease ran out. Refused once `maxAttempts` attempts have run, so a duplicate or
   * requeued message never gives a task more than its attempts.
   */
  | { to: 'PROCESSING'; at: Date; leaseExpiresAt: Date; maxAttempts: number }
  /** Only the holder of the current attempt may complete, so a worker that lost its lease changes nothing. */
  | { to: 'COMPLETED'; at: Date; attempt: number; result: unknown; progress?: TaskProgress }
  | { to: 'CANCELED'; at: Date }
  /**
   * `unlessLeased`: refused while a worker holds a live lease on the task (the dead-letter consumer's
   * move). `attempt`: only the holder of that attempt may fail it (a kind's last attempt failing).
   */
  | { to: 'FAILED'; at: Date; error: TaskError; unlessLeased?: boolean; attempt?: undefined }
  | { to: 'FAILED'; at: Date; error: TaskError; attempt: number; unlessLeased?: undefined };

export type TransitionResult =
  | { applied: true; task: Task }
  /**
   * The condition refused the move: `current` is the task as it stood (absent when there is no
   * such task), with the lease of the worker holding it, if any.
   */
  | { applied: false; current?: Task; leaseExpiresAt?: Date };

export interface ListQuery {
  status?: TaskStatus;
  /** Only tasks of this kind (`by-kind`); with `status`, those of that status among them. */
  kind?: string;
  limit: number;
  /** Opaque; from the previous page's `nextCursor`. */
  cursor?: string;
}

export interface TaskPage {
  /** Newest first. */
  tasks: TaskSummary[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/** A task's place in the oldest-first walk of unfinished tasks. */
export interface StalePosition {
  taskId: string;
  createdAt: string;
}

/** What an idempotency key remembers of the request that first used it. */
export interface IdempotencyRecord {
  key: string;
  /** A digest of the request body, to tell a retry from a reuse. */
  fingerprint: string;
  taskId: string;
  createdAt: string;
  expiresAt: Date;
}

/** Where tasks live: the single source of truth for their status. */
export interface TaskStore {
  /** Stores a new task; never overwrites an existing one. */
  create(task: Task): Promise<void>;
  /** Stores new tasks (fresh ids) of one batch in as few calls as the store allows; throws unless all were stored. */
  createMany(tasks: Task[], batch?: BatchRef): Promise<void>;
  /**
   * Records a batch's verdict unless it has one: the first verdict stands, and is what this answers
   * (a commit that finds the batch aborted by a processor answers ABORTED). `handOff`, with an
   * abort: the messages of its tasks that its submit could not send, kept with the verdict (in the
   * same write) for the dispatcher to send at its next run (`takeHandOffs`).
   */
  settleBatch(batchId: string, verdict: BatchVerdict, handOff?: TaskMessage[]): Promise<BatchVerdict>;
  /** A batch's verdict, read consistently; undefined while it has none. */
  batchVerdict(batchId: string): Promise<BatchVerdict | undefined>;
  /**
   * Stores a new task and its idempotency record atomically, unless a live record holds the key:
   * then nothing is written and that record is returned.
   */
  createIdempotent(task: Task, record: IdempotencyRecord): Promise<IdempotencyRecord | undefined>;
  /**
   * Stores `retry` (a new task whose `retry_of` names a FAILED one) and records it on that task as
   * its `retried_as`, atomically, unless that task is not FAILED or was retried already: then
   * nothing is written and the task is answered as it stands (absent when there is no such task).
   */
  createRetry(retry: Task & { retry_of: string }): Promise<{ applied: true } | { applied: false; current?: Task }>;
  /** Frees the key of a submit that could not be completed, so a retry starts afresh. */
  releaseIdempotencyKey(key: string, taskId: string): Promise<void>;
  get(taskId: string): Promise<Task | undefined>;
  /** The summaries of the tasks of `taskIds` that exist, read consistently, in the order given. */
  getSummaries(taskIds: string[]): Promise<TaskSummary[]>;
  /**
   * The statuses of many tasks in batched reads: what running work polls to notice a cancel. May
   * lag a write by a moment: a cancel seen one poll late costs only wasted work.
   */
  getStatuses(taskIds: string[]): Promise<Map<string, TaskStatus>>;
  transition(taskId: string, change: StatusChange): Promise<TransitionResult>;
  /**
   * Ends the lease of a failed attempt at `at`, if that attempt still holds the task, so its retry
   * takes the task over at once instead of waiting the lease out. Not a status move: the task stays
   * PROCESSING until the retry claims it or the dead-letter consumer fails it.
   */
  releaseLease(taskId: string, attempt: number, at: Date, error: TaskError): Promise<void>;
  /**
   * Records what the running attempt `attempt` reports of its progress; refused (false) unless the
   * task is PROCESSING under that attempt. Not a status move.
   */
  recordProgress(taskId: string, attempt: number, progress: TaskProgress): Promise<boolean>;
  /** One page of tasks, newest first; throws InvalidCursorError for a cursor it did not issue. */
  list(query: ListQuery): Promise<TaskPage>;
  /**
   * The `limit` oldest PENDING or PROCESSING tasks created before `before`, oldest first across every
   * shard, starting after `after` (the last of the previous page).
   */
  findUnfinishedCreatedBefore(before: Date, limit: number, after?: StalePosition): Promise<StalePosition[]>;
  /**
   * Notes that the sweeper requeues the task now, if it still needs it: it is PENDING, or PROCESSING
   * with its lease run out, and was not requeued since `requeuedBefore`, so a task that is only
   * waiting in the queue is sent again at most once per stale period. Answers the message to send
   * (with the task's batch), or undefined when it needs none.
   */
  markRequeued(taskId: string, at: Date, requeuedBefore: Date): Promise<TaskMessage | undefined>;
  /** The held tasks (lib/tasks/schedule.ts) due by `until`, due first, at most `limit`. */
  findDue(until: Date, limit: number): Promise<string[]>;
  /**
   * Takes a held PENDING task out of the held ones, to be queued now; answers its message (with its
   * batch), or undefined when it is not held any more (dispatched already, canceled).
   */
  markDispatched(taskId: string): Promise<TaskMessage | undefined>;
  /**
   * Takes the messages that refused batches left to send (`settleBatch`'s `handOff`), at most
   * `limit` batches' worth, oldest first; each batch's are taken once, whoever asks.
   */
  takeHandOffs(limit: number): Promise<TaskMessage[]>;
  /**
   * The tasks whose final write marked them unpublished before `before` and whose event nobody has
   * published since (lib/tasks/completion-events.ts), oldest first, at most `limit`, each with the
   * time of that final write.
   */
  findUnpublished(before: Date, limit: number): Promise<Array<{ taskId: string; endedAt: string }>>;
  /** Clears the unpublished mark of each task: its event is out. */
  markPublished(taskIds: string[]): Promise<void>;
  /**
   * Takes the next attempt of the task's callback, appending it (underway) to `callback_attempts`:
   * its number, or undefined when the callback has ended (DELIVERED, GAVE_UP) or has had
   * `maxAttempts` attempts. So however many deliveries of one event are queued (a relayed event),
   * the callback is called at most `maxAttempts` times, and never again once it has ended.
   */
  beginCallbackAttempt(taskId: string, at: Date, maxAttempts: number): Promise<number | undefined>;
  /** Ends the task's callback GAVE_UP unless it has ended: for a delivery that finds its attempts all taken. */
  giveUpCallback(taskId: string): Promise<void>;
  /** Records how attempt `attempt.attempt` ended; with `state`, ends the callback so. */
  recordCallbackAttempt(taskId: string, attempt: CallbackAttempt, state?: 'DELIVERED' | 'GAVE_UP'): Promise<void>;
  /**
   * How many tasks have each status now, read from the status index: exact but for the tasks that
   * change status while it counts (each is counted in its old status, its new one, or neither).
   */
  countByStatus(): Promise<StatusCounts>;
  /** Throws when the store does not answer. */
  ping(): Promise<void>;
}

/** Messages of a queue, as SQS reports them (approximate by SQS's own definition). */
export interface QueueDepth {
  /** Visible, waiting for a receive. */
  waiting: number;
  /** Received and not yet deleted: being worked, or waiting out a retry's backoff. */
  inFlight: number;
  /** Sent with a delay that has not passed yet. */
  delayed: number;
}

/** How tasks reach the processor. */
export interface TaskQueue {
  enqueue(message: TaskMessage): Promise<void>;
  /** Sends many messages in as few calls as the queue allows; throws if any could not be sent. */
  enqueueAll(messages: TaskMessage[]): Promise<void>;
  /** Hides a received message (of the lane `priority`, normal by default) for `delaySeconds` before it is delivered again: the retry backoff. */
  retryAfter(receiptHandle: string, delaySeconds: number, priority?: TaskPriority): Promise<void>;
  /** Throws when the queue does not answer. */
  ping(): Promise<void>;
}

/** Where completion events are published: EventBridge on AWS and LocalStack, a local receiver in the embedded stack. */
export interface EventBus {
  /** Publishes every event; throws unless all were accepted. */
  publish(events: CompletionEvent[]): Promise<void>;
}

/** How callbacks reach their deliverer, and wait out their backoff. */
export interface CallbackQueue {
  enqueueAll(deliveries: CallbackDelivery[]): Promise<void>;
  /** Hides a received delivery for `delaySeconds` before it comes back: the callback's retry backoff. */
  retryAfter(receiptHandle: string, delaySeconds: number): Promise<void>;
}

/** What a callback's call came to: the status its URL answered, or why there was no answer (`refused`: the address may not be called, so trying again will not help). */
export type CallbackResponse = { statusCode: number } | { error: string; refused: boolean };

/** Makes a callback's HTTP call. */
export interface CallbackSender {
  post(url: string, body: string, headers: Record<string, string>): Promise<CallbackResponse>;
}

/** A queue's depth, apart from what it carries: the task queue and its dead-letter queue both have one. */
export interface QueueGauge {
  depth(): Promise<QueueDepth>;
}

/** What the service counts and times; the domain reports through this port, never through Powertools itself. */
export type TaskCount = 'TasksSubmitted' | 'TasksStarted' | 'TasksCompleted' | 'TasksCanceled' | 'TasksFailed';
export type TaskDuration = 'WorkTime' | 'QueueWait';
export interface TaskMetrics {
  count(metric: TaskCount, value?: number): void;
  duration(metric: TaskDuration, milliseconds: number): void;
}

/** Metrics that go nowhere: the default where none are given (unit tests, scripts). */
export const noMetrics: TaskMetrics = { count: () => undefined, duration: () => undefined };

/** One TaskMetrics that records into each of `sinks`. */
export const allOf = (...sinks: TaskMetrics[]): TaskMetrics => ({
  count: (metric, value) => sinks.forEach((sink) => sink.count(metric, value)),
  duration: (metric, milliseconds) => sinks.forEach((sink) => sink.duration(metric, milliseconds)),
});

/** Where the minutes of activity are kept: added to by every processor container, read for the last hour. */
export interface ActivityLog {
  /** Adds each minute's counts and histograms to what that minute holds already. */
  add(minutes: MinuteActivity[]): Promise<void>;
  /** What the given minutes hold; a minute nothing was recorded in may be left out. */
  read(minutes: string[]): Promise<MinuteActivity[]>;
}
