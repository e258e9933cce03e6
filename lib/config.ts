import { z } from 'zod';
import { parseCallbackPolicy } from './tasks/callback-policy';

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

/**
 * Everything the functions read from the environment, validated once at cold start so a bad
 * deployment fails loudly on its first invocation instead of on some later request.
 * Endpoints are not here on purpose: the AWS SDK reads AWS_ENDPOINT_URL_DYNAMODB and
 * AWS_ENDPOINT_URL_SQS itself, so the same code runs on AWS, LocalStack and the embedded stack.
 */
export const ConfigSchema = z.object({
  TASKS_TABLE: z.string().min(1),
  TASKS_QUEUE_URL: z.url(),
  /** The high-priority lane's queue (`priority: "high"`), with a processor of its own. */
  TASKS_HIGH_PRIORITY_QUEUE_URL: z.url(),
  /** Its dead-letter queue: only its depth is read here (GET /api/stats); the failDeadLetters function is triggered by it. */
  TASKS_DEAD_LETTER_QUEUE_URL: z.url(),
  /** How old the counts and queue depths an instance answers may be (GET /api/stats). */
  STATS_MAX_AGE_SECONDS: positiveInt.default(5),
  /** Simulated work time of one task. */
  TASK_WORK_MS: nonNegativeInt.default(3000),
  /** How long a claimed task belongs to its worker; past it, a redelivered message takes the task over. */
  PROCESSING_LEASE_SECONDS: positiveInt.default(60),
  /** How often a running task checks whether it was canceled. */
  // 400 ms: a cancel stops the work within half a second at p99 (npm run bench -- --phases abort), for 4 half read units per 3-second task.
  CANCEL_POLL_MS: positiveInt.default(400),
  /** First retry delay of a failed record; doubled on each further receive. */
  RETRY_BASE_DELAY_SECONDS: nonNegativeInt.default(10),
  /** Age after which an unfinished task is presumed to have lost its message and is requeued. */
  STALE_TASK_SECONDS: positiveInt.default(300),
  /** Days a final task is kept: its final write sets the table's TTL attribute to then (DynamoDB deletes it within days after). */
  TASK_RETENTION_DAYS: positiveInt.default(30),
  /** `on`: the processor reads `payload.simulate` (fail_attempts, work_ms) and submit validates it; off on deployed stages unless set. */
  TASK_SIMULATION: z.enum(['on', 'off']).default('off'),
  /**
   * How long before its run_at a delayed task is queued (the dispatcher runs every minute; SQS
   * delays a message at most 900 s). A task due later than this after its submit is held until then.
   */
  TASK_DISPATCH_AHEAD_SECONDS: positiveInt.max(840).default(840),
  /** The queue's maxReceiveCount, so the processor knows which attempt is the last. */
  MAX_RECEIVE_COUNT: positiveInt.default(3),
  /** The stack's EventBridge bus: every final status is published to it once (lib/tasks/completion-events.ts). */
  TASK_EVENT_BUS_NAME: z.string().min(1),
  /** A final task still marked unpublished this long after its final write is published by the relay (its writer stopped). */
  EVENT_RELAY_AFTER_SECONDS: positiveInt.default(60),
  /** The queue of callbacks to make; its trigger is the deliverCallbacks function. */
  TASK_CALLBACKS_QUEUE_URL: z.url(),
  /** Host patterns a callback_url may name, comma-separated: `*`, `hooks.example.com`, `*.example.com`. */
  CALLBACK_ALLOWED_HOSTS: z.string().default('*'),
  /** Non-public networks (CIDR, comma-separated) callbacks may reach anyway; none on a deployed stage. */
  CALLBACK_ALLOWED_PRIVATE_NETWORKS: z.string().default(''),
  /** The callbacks' HMAC key itself (the embedded stack, LocalStack); on AWS, CALLBACK_SIGNING_SECRET_PARAMETER names it in SSM instead. */
  CALLBACK_SIGNING_SECRET: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(16, 'must be at least 16 characters').optional()),
  /** The SSM parameter (a SecureString) holding the callbacks' HMAC key, read by the deliverer and cached for five minutes. */
  CALLBACK_SIGNING_SECRET_PARAMETER: z.preprocess((value) => (value === '' ? undefined : value), z.string().optional()),
  /** Calls of a callback in all before it is given up on. */
  CALLBACK_MAX_ATTEMPTS: positiveInt.max(20).default(8),
  /** The wait after a callback's first failed call, doubled after each further one (30 s: eight attempts span about an hour). */
  CALLBACK_RETRY_BASE_SECONDS: positiveInt.default(30),
  /** How long a callback's URL has to connect and answer. */
  CALLBACK_TIMEOUT_MS: positiveInt.max(30_000).default(10_000),
}).superRefine((config, ctx) => {
  try {
    parseCallbackPolicy(config.CALLBACK_ALLOWED_HOSTS, config.CALLBACK_ALLOWED_PRIVATE_NETWORKS);
  } catch (error) {
    ctx.addIssue({ code: 'custom', path: ['CALLBACK_ALLOWED_HOSTS'], message: (error as Error).message });
  }
  if (config.CALLBACK_SIGNING_SECRET === undefined && config.CALLBACK_SIGNING_SECRET_PARAMETER === undefined) {
    ctx.addIssue({ code: 'custom', path: ['CALLBACK_SIGNING_SECRET'], message: 'set CALLBACK_SIGNING_SECRET or CALLBACK_SIGNING_SECRET_PARAMETER' });
  }
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(`Invalid configuration:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
