import { z } from 'zod';
import { DEFAULT_KIND, KIND_NAME, type KindRegistry } from './kind';
import { MAX_DELAY_SECONDS, runAtOf } from './schedule';
import { callbackUrlRefusal, DEFAULT_CALLBACK_POLICY, type CallbackPolicy } from './callback-policy';

export const TASK_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELED'] as const;
/** The lanes a task may be queued in: `high` has a queue and processor of its own, so it never waits behind `normal` work. */
export const TASK_PRIORITIES = ['high', 'normal'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;
/** A number for each status. */
export type StatusCounts = Record<TaskStatus, number>;

export const MAX_TITLE_LENGTH = 255;
export const MAX_CALLBACK_URL_LENGTH = 2_048;
export const MAX_DESCRIPTION_LENGTH = 10_000;

/** "is required" for a missing field, "must be a string" for a wrong type. */
const stringField = () => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

/** Any JSON value: metadata values, payloads, results. */
export const JsonValueSchema = z.json();

export const TaskIdSchema = z.uuid({ error: 'must be a UUID' });

/** Path parameters of the routes under `/api/tasks/{task_id}`. */
export const TaskPathSchema = z.object({ task_id: TaskIdSchema });

/**
 * `payload.simulate`, read by the simulated work when the service runs with TASK_SIMULATION=on:
 * the first `fail_attempts` attempts fail, and the work takes `work_ms` instead of TASK_WORK_MS.
 */
export const SimulateSchema = z
  .strictObject({
    fail_attempts: z.int('must be a whole number').min(0, 'must be at least 0').max(10, 'must be at most 10').optional(),
    work_ms: z.int('must be a whole number').min(0, 'must be at least 0').max(20_000, 'must be at most 20000').optional(),
  }, { error: 'must be an object with fail_attempts and/or work_ms' })
  .meta({
    description:
      'Read from `payload.simulate` only when the service runs with TASK_SIMULATION=on (locally and in tests): the first ' +
      '`fail_attempts` attempts fail (3 or more: the task ends FAILED), and the work takes `work_ms` milliseconds.',
  });
export type Simulate = z.infer<typeof SimulateSchema>;

/** The simulation controls of a payload, if it carries valid ones. */
export function simulationOf(payload: unknown): Simulate {
  const simulate = payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>).simulate : undefined;
  const parsed = SimulateSchema.safeParse(simulate);
  return parsed.success ? parsed.data : {};
}

/** What a client may send to create a task; unknown fields are refused so a typo never passes silently. */
/**
 * Text that must hold more than white space, trimmed. Said as a pattern (not only as `minLength`
 * after the trim), so the OpenAPI document refuses a title of only white space too.
 */
const textField = (maxLength: number) =>
  stringField()
    .regex(NOT_BLANK, 'must not be empty')
    .trim()
    .max(maxLength, `must be at most ${maxLength} characters`);
const NOT_BLANK = /\S/;

export const SubmitTaskSchema = z.strictObject({
  title: textField(MAX_TITLE_LENGTH),
  description: textField(MAX_DESCRIPTION_LENGTH),
  metadata: z.record(z.string(), JsonValueSchema, { error: 'must be a JSON object' }).default({}),
  kind: z.string({ error: 'must be a string' }).optional(),
  payload: JsonValueSchema.optional(),
  run_at: z.iso
    .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T18:00:00Z' })
    .optional()
    .meta({ description: 'Not before this time (at most a year ahead; a past time means at once). Not with delay_seconds.' }),
  delay_seconds: z
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(MAX_DELAY_SECONDS, `must be at most ${MAX_DELAY_SECONDS} (a year)`)
    .optional()
    .meta({ description: 'Not before this many seconds after the submit. Not with run_at.' }),
  priority: z
    .enum(TASK_PRIORITIES, { error: `must be one of: ${TASK_PRIORITIES.join(', ')}` })
    .optional()
    .meta({ description: 'high: queued in a lane of its own, ahead of any backlog of normal tasks (default normal)' }),
  callback_url: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(MAX_CALLBACK_URL_LENGTH, `must be at most ${MAX_CALLBACK_URL_LENGTH} characters`)
    .optional()
    .meta({
      description:
        'Called with a signed POST of the completion event (schema CompletionEvent) when the task ends (X-Task-Signature, X-Task-Timestamp); ' +
        'its host must be allowed by the stage (CALLBACK_ALLOWED_HOSTS), and private or link-local addresses are refused.',
    }),
});

/**
 * A submit as validated: its kind named (the default where none was sent), its payload as that
 * kind's schema parsed it. Callers inside the service may leave `kind` out for the default.
 */
export type SubmitTaskInput = Omit<z.infer<typeof SubmitTaskSchema>, 'kind'> & { kind?: string };

/**
 * The submit body's schema: the common fields, then the payload by its kind's own schema, so an
 * unknown kind or a payload its kind refuses is a 400 naming the field (`kind`, `payload.<path>`).
 * The kind is checked with the fields (an unknown one is told beside a bad title); the payload
 * and the checks across fields, once every field is valid.
 */
export const submitTaskSchema = (kinds: KindRegistry, callbackPolicy: CallbackPolicy = DEFAULT_CALLBACK_POLICY) =>
  SubmitTaskSchema.extend({
    kind: SubmitTaskSchema.shape.kind.refine((name) => kinds.get(name ?? DEFAULT_KIND) !== undefined, `must be one of: ${kinds.names.join(', ')}`),
  }).transform((input, ctx): SubmitTaskInput => {
    const refusal = input.callback_url === undefined ? undefined : callbackUrlRefusal(new URL(input.callback_url), callbackPolicy);
    if (refusal) {
      ctx.addIssue({ code: 'custom', path: ['callback_url'], input: input.callback_url, message: refusal });
      return z.NEVER;
    }
    if (input.run_at !== undefined && input.delay_seconds !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['delay_seconds'], input: input.delay_seconds, message: 'cannot be sent with run_at: send one of them' });
      return z.NEVER;
    }
    if (input.run_at !== undefined && Date.parse(input.run_at) > Date.now() + MAX_DELAY_SECONDS * 1000) {
      ctx.addIssue({ code: 'custom', path: ['run_at'], input: input.run_at, message: 'must be at most a year ahead' });
      return z.NEVER;
    }
    // The kind field's own check let only a registered kind through.
    const kind = kinds.get(input.kind ?? DEFAULT_KIND)!;
    const payload = kind.payload.safeParse(input.payload);
    if (!payload.success) {
      for (const issue of payload.error.issues) ctx.addIssue({ code: 'custom', path: ['payload', ...issue.path], input: issue.input, message: issue.message });
      return z.NEVER;
    }
    const { payload: _sent, ...rest } = input;
    return { ...rest, kind: kind.name, ...(payload.data === undefined ? {} : { payload: payload.data }) };
  });

/** The `Idempotency-Key` header: 1 to 128 printable ASCII characters. */
export const IdempotencyKeySchema = z
  .string()
  .regex(/^[\x20-\x7E]{1,128}$/, 'must be 1 to 128 printable ASCII characters')
  .refine((key) => key.trim().length > 0, 'must not be blank');

/** Headers of a submit, as normalized (lower-case names). */
export const SubmitHeadersSchema = z.object({ 'idempotency-key': IdempotencyKeySchema.optional() });

/** How long an idempotency key holds on to the task it created. */
export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

export const MAX_BATCH_SIZE = 100;

/** `POST /api/tasks/batch`: 1 to 100 task bodies of any kinds, validated all or nothing. */
export const submitBatchSchema = (kinds: KindRegistry, callbackPolicy?: CallbackPolicy) =>
  z.strictObject({
    tasks: z
      .array(submitTaskSchema(kinds, callbackPolicy), { error: 'must be an array of tasks' })
      .min(1, 'must hold at least one task')
      .max(MAX_BATCH_SIZE, `must hold at most ${MAX_BATCH_SIZE} tasks`),
  });
export type SubmitBatchInput = z.output<ReturnType<typeof submitBatchSchema>>;

export const SubmittedBatchSchema = z.object({
  tasks: z.array(z.object({ task_id: z.uuid(), status: z.literal('PENDING') })),
});
export type SubmittedBatch = z.infer<typeof SubmittedBatchSchema>;

export const TaskErrorSchema = z.object({ code: z.string(), message: z.string() });
export type TaskError = z.infer<typeof TaskErrorSchema>;

/** The error of a task stored by a submit that could not queue it (the submit answered 503). */
export const ENQUEUE_FAILED: TaskError = { code: 'ENQUEUE_FAILED', message: 'The task could not be queued for processing' };

/** The error of a task whose batch submit was answered 503: none of that batch runs. */
export const BATCH_NOT_ACCEPTED: TaskError = {
  code: 'BATCH_NOT_ACCEPTED',
  message: 'The batch this task was submitted in was not accepted (the submit answered 503); none of its tasks runs',
};

const timestamp = z.iso.datetime();

/** How far a running task says it is: the latest `progress()` its kind reported, written at most every few seconds. */
export const TaskProgressSchema = z.object({
  fraction: z.number().min(0).max(1),
  message: z.string().nullable(),
  updated_at: timestamp,
});
export type TaskProgress = z.infer<typeof TaskProgressSchema>;
export const MAX_PROGRESS_MESSAGE_LENGTH = 200;

/**
 * One attempt at a task's work, oldest first. `RUNNING`: the attempt holds the task now.
 * `ABANDONED`: it never reported an end (its worker stopped, or its lease ran out and a later attempt
 * or the dead-letter consumer took over). `CANCELED`: the task was canceled while it ran.
 */
export const ATTEMPT_OUTCOMES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'ABANDONED'] as const;
export const TaskAttemptSchema = z.object({
  attempt: z.number().int().min(1),
  started_at: timestamp,
  ended_at: timestamp.nullable(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  /** Why a FAILED attempt failed (its message cut to MAX_ATTEMPT_ERROR_LENGTH). */
  error: TaskErrorSchema.nullable(),
});
export type TaskAttempt = z.infer<typeof TaskAttemptSchema>;
/** An attempt's error message is kept to this many characters in the history: the item every status write touches holds it. */
export const MAX_ATTEMPT_ERROR_LENGTH = 300;

export const CALLBACK_STATES = ['PENDING', 'DELIVERED', 'GAVE_UP'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

/** One call of a task's callback_url: what it answered, or why no answer came. */
export const CallbackAttemptSchema = z.object({
  attempt: z.number().int().min(1),
  at: timestamp,
  duration_ms: z.number().int().nonnegative(),
  /** The HTTP status it answered; null when it did not answer (refused address, timeout, connection error). */
  status_code: z.number().int().nullable(),
  /** Why the attempt failed; null for a 2xx. */
  error: z.string().nullable(),
});
export type CallbackAttempt = z.infer<typeof CallbackAttemptSchema>;

/** A W3C trace id: 32 lower-case hex digits. */
export const TraceIdSchema = z.string().regex(/^[0-9a-f]{32}$/);

/** The task as stored and as returned by the API. */
export const TaskSchema = z.object({
  task_id: z.uuid(),
  title: z.string(),
  description: z.string(),
  status: TaskStatusSchema,
  /** What runs it (`kinds/`); tasks stored before kinds existed are of the default kind. */
  kind: z.string(),
  metadata: z.record(z.string(), JsonValueSchema),
  payload: JsonValueSchema.optional(),
  result: JsonValueSchema.nullable(),
  progress: TaskProgressSchema.nullable(),
  error: TaskErrorSchema.nullable(),
  /** Why the latest failed attempt failed, kept while the task is retried (and after): null until an attempt fails. */
  last_error: TaskErrorSchema.nullable(),
  attempts: z.number().int().nonnegative(),
  created_at: timestamp,
  updated_at: timestamp,
  started_at: timestamp.nullable(),
  completed_at: timestamp.nullable(),
  canceled_at: timestamp.nullable(),
  /** The FAILED task this one was submitted to retry (POST /api/tasks/{task_id}/retry, or a redrive). */
  retry_of: z.uuid().nullable(),
  /** On a FAILED task: the task that retries it. A FAILED task stays FAILED; it is retried at most once. */
  retried_as: z.uuid().nullable(),
  /** The W3C trace id of the request that submitted it: every log line of its life carries it. Null for tasks submitted before it was kept. */
  trace_id: TraceIdSchema.nullable(),
  /** The lane it is queued in. */
  priority: z.enum(TASK_PRIORITIES),
  /** Not started before this time (the submit's `run_at` or `delay_seconds`); null: at once. */
  run_at: timestamp.nullable(),
  /** Every attempt since the history was kept, oldest first: its start, end and outcome. */
  attempt_history: z.array(TaskAttemptSchema),
  /** Where the completion event is POSTed when the task ends; null: nowhere. */
  callback_url: z.string().nullable(),
  /**
   * Null without a callback_url. PENDING until the task ends and its callback is answered with a 2xx
   * (DELIVERED) or given up on (GAVE_UP: CALLBACK_MAX_ATTEMPTS attempts failed, or its address was refused).
   */
  callback_state: z.enum(CALLBACK_STATES).nullable(),
  /** Every call of the callback_url, oldest first. */
  callback_attempts: z.array(CallbackAttemptSchema),
});
export type Task = z.infer<typeof TaskSchema>;

/**
 * A task in a list: everything but `payload` and `result`, which are unbounded (a page stays far
 * below Lambda's 6 MB), and `attempt_history` and `callback_attempts`, which are for a task's own page.
 */
export const TaskSummarySchema = TaskSchema.omit({ payload: true, result: true, attempt_history: true, callback_attempts: true });
export type TaskSummary = z.infer<typeof TaskSummarySchema>;

const QueueDepthSchema = z.object({
  waiting: z.number().int().nonnegative().meta({ description: 'Visible messages, waiting for the processor (ApproximateNumberOfMessages)' }),
  in_flight: z.number().int().nonnegative().meta({ description: 'Received and not yet deleted: being worked or waiting out a retry backoff (ApproximateNumberOfMessagesNotVisible)' }),
  delayed: z.number().int().nonnegative().meta({ description: 'Sent with a delay not yet over (ApproximateNumberOfMessagesDelayed)' }),
});

const percentilesSchema = z.object({ p50: z.number().int().nonnegative().nullable(), p99: z.number().int().nonnegative().nullable() });

/** GET /api/stats: how many tasks have each status, and how deep the queues are. */
export const ServiceStatsSchema = z.object({
  tasks: z.object({
    by_status: z.object(Object.fromEntries(TASK_STATUSES.map((status) => [status, z.number().int().nonnegative()])) as Record<TaskStatus, z.ZodNumber>),
    total: z.number().int().nonnegative(),
  }),
  queue: QueueDepthSchema,
  high_priority_queue: QueueDepthSchema,
  dead_letter_queue: QueueDepthSchema,
  last_hour: z
    .object({
      per_minute: z.array(z.object({ minute: z.string().meta({ description: 'The minute, YYYY-MM-DDTHH:MM (UTC)' }), completed: z.number().int().nonnegative(), failed: z.number().int().nonnegative() })),
      completed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
      submit_to_start_ms: percentilesSchema.meta({ description: 'QueueWait: from the message\'s send (the submit, or a requeue) to an attempt\'s start, over every attempt started in the hour' }),
      start_to_end_ms: percentilesSchema.meta({ description: 'WorkTime: from an attempt\'s start to its completion, over every completion in the hour' }),
    })
    .meta({
      description:
        'The 60 minutes ending with the current one, oldest first, as the processors recorded them (a write per invocation, not per task). ' +
        'Percentiles are read from log-bucket histograms: within 9% of the true value.',
    }),
  counted_at: timestamp.meta({ description: 'When these numbers were read; they are at most max_age_seconds old' }),
  max_age_seconds: z.number().int().nonnegative(),
});
export type ServiceStats = z.output<typeof ServiceStatsSchema>;

export const TaskListSchema = z.object({ tasks: z.array(TaskSummarySchema), next_cursor: z.string().nullable() });

export const SubmittedTaskSchema = z.object({
  task_id: z.uuid(),
  status: z.literal('PENDING'),
  message: z.string(),
  created_at: timestamp,
});
export type SubmittedTask = z.infer<typeof SubmittedTaskSchema>;

/** A freshly submitted task: every lifecycle field starts empty. */
export function newTask(input: SubmitTaskInput, taskId: string, now: Date, traceId: string | null = null): Task {
  const at = now.toISOString();
  return {
    task_id: taskId,
    title: input.title,
    description: input.description,
    status: 'PENDING',
    kind: input.kind ?? DEFAULT_KIND,
    metadata: input.metadata,
    ...(input.payload === undefined ? {} : { payload: input.payload }),
    result: null,
    progress: null,
    last_error: null,
    error: null,
    attempts: 0,
    created_at: at,
    updated_at: at,
    started_at: null,
    completed_at: null,
    canceled_at: null,
    retry_of: null,
    retried_as: null,
    trace_id: traceId,
    priority: input.priority ?? 'normal',
    run_at: runAtOf(input, now),
    attempt_history: [],
    callback_url: input.callback_url ?? null,
    callback_state: input.callback_url === undefined ? null : 'PENDING',
    callback_attempts: [],
  };
}

/**
 * A whole number from a query string, digits only: Number() would also take `0x10`, `1e1` or ` 5`,
 * which no client means as a count.
 */
const wholeNumberParameter = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,6}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const MAX_WAIT_SECONDS = 20;

/** `GET /api/tasks/{task_id}` query: `wait` holds the answer until the task is final or changes. */
export const GetTaskQuerySchema = z.object({
  wait: wholeNumberParameter(1, MAX_WAIT_SECONDS)
    .optional()
    .meta({
      type: 'integer',
      minimum: 1,
      maximum: MAX_WAIT_SECONDS,
      description:
        'Seconds to hold the answer until the task is final or, with If-None-Match, until its ETag differs from that one; ' +
        'then the task as it stands (304 if If-None-Match still matches).',
    }),
});

/** Headers of a read, as normalized (lower-case names). */
export const GetTaskHeadersSchema = z.object({
  'if-none-match': z.string().max(1_024, 'is too long').optional().meta({ description: 'An ETag from an earlier answer: 304 while the task still has it' }),
});

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** A retry's answer: the new task, and the FAILED one it retries. */
export const RetriedTaskSchema = SubmittedTaskSchema.extend({ retry_of: z.uuid() });
export type RetriedTask = z.infer<typeof RetriedTaskSchema>;

/** How many tasks one bulk call acts on at most: it answers within the API's time, and continues by cursor. */
export const MAX_BULK_PAGE = 100;
const bulkPage = {
  limit: z.number().int().min(1).max(MAX_BULK_PAGE).default(MAX_BULK_PAGE).meta({ description: `Tasks looked at in this call, at most ${MAX_BULK_PAGE}` }),
  cursor: z.string().min(1, 'must not be empty').max(16_384, 'is too long').optional().meta({ description: 'next_cursor of the previous call, to continue' }),
};

/** `POST /api/tasks/redrive`: retry the FAILED tasks (failed after a time, if given), a page per call. */
export const RedriveRequestSchema = z.strictObject({
  failed_after: timestamp.optional().meta({ description: 'Only tasks that failed after this time' }),
  ...bulkPage,
});
export type RedriveRequest = z.output<typeof RedriveRequestSchema>;

export const RedriveResultSchema = z.object({
  redriven: z.array(z.object({ task_id: z.uuid(), retry_task_id: z.uuid() })).meta({ description: 'FAILED tasks retried by this call' }),
  skipped: z.number().int().nonnegative().meta({ description: 'FAILED tasks of the page left alone: retried already, or failed before failed_after' }),
  next_cursor: z.string().nullable().meta({ description: 'Null when every FAILED task has been looked at' }),
});
export type RedriveResult = z.infer<typeof RedriveResultSchema>;

/** `POST /api/tasks/cancel`: cancel the PENDING tasks (created before a time, if given), a page per call. */
export const BulkCancelRequestSchema = z.strictObject({
  status: z.literal('PENDING').meta({ description: 'Only PENDING tasks are canceled in bulk; a running one is canceled by its own id' }),
  created_before: timestamp.optional().meta({ description: 'Only tasks created before this time' }),
  ...bulkPage,
});
export type BulkCancelRequest = z.output<typeof BulkCancelRequestSchema>;

export const BulkCancelResultSchema = z.object({
  canceled: z.array(z.uuid()).meta({ description: 'Tasks this call canceled' }),
  skipped: z.array(z.object({ task_id: z.uuid(), status: TaskStatusSchema })).meta({ description: 'Tasks that had moved on (COMPLETED or FAILED) before their cancel' }),
  next_cursor: z.string().nullable(),
});
export type BulkCancelResult = z.infer<typeof BulkCancelResultSchema>;

/** `GET /api/tasks` query: status filter, page size, and the cursor of the previous page. */
export const ListTasksQuerySchema = z.object({
  status: TaskStatusSchema.optional(),
  kind: z
    .string()
    .regex(KIND_NAME, 'must be a kind name (lower-case letters, digits and dashes, starting with a letter)')
    .optional()
    .meta({ description: 'Only tasks of this kind (with status: of that status among them; such a page may hold fewer than limit tasks and still have a next_cursor)' }),
  limit: wholeNumberParameter(1, MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, description: `Page size, default ${DEFAULT_PAGE_SIZE}` }),
  cursor: z.string().min(1, 'must not be empty').max(16_384, 'is too long').optional(),
});

/**
 * A task of a batch submit runs only once its batch is committed: the submit commits it after every
 * task is stored and queued, or aborts it (a 503), and a processor that finds no verdict after
 * `commit_by` aborts it itself. So a batch answered 503 runs none of its tasks, whatever else failed.
 */
export const BatchRefSchema = z.strictObject({ id: z.uuid(), commit_by: z.iso.datetime() });
export type BatchRef = z.infer<typeof BatchRefSchema>;
export type BatchVerdict = 'COMMITTED' | 'ABORTED';

/**
 * The message that carries a task through the queue: its id (and its batch), so the store stays the
 * truth. Its kind rides along so that a processor can wait for a turn of that kind's concurrency
 * before it claims the task (absent in messages sent before kinds existed).
 */
export const TaskMessageSchema = z.strictObject({
  task_id: z.uuid(),
  kind: z.string().optional(),
  batch: BatchRefSchema.optional(),
  /** The task's `run_at`: what the queue delays the message by, and what the processor checks before a claim. */
  run_at: z.iso.datetime().optional(),
  /** Only when `high`: the lane the message was sent to, where its retry delay is set. */
  priority: z.literal('high').optional(),
});
export type TaskMessage = z.infer<typeof TaskMessageSchema>;

/** The queue message of a task (of a batch submit, with its batch). */
export const messageOf = (task: Pick<Task, 'task_id' | 'kind' | 'run_at' | 'priority'>, batch?: BatchRef): TaskMessage => ({
  task_id: task.task_id,
  kind: task.kind,
  ...(batch ? { batch } : {}),
  ...(task.run_at ? { run_at: task.run_at } : {}),
  ...(task.priority === 'high' ? { priority: 'high' as const } : {}),
});
