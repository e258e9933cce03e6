import { createDocumentClient, createEventBridgeClient, createSqsClient } from '#lib/aws/clients';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { EventBridgeEventBus } from '#lib/aws/eventbridge-event-bus';
import { SqsCallbackQueue } from '#lib/aws/sqs-callback-queue';
import { HttpCallbackSender } from '#lib/http/callback-sender';
import { parseCallbackPolicy } from '#lib/tasks/callback-policy';
import { createCallbackDeliverer } from '#lib/tasks/callback-delivery';
import { createCompletionNotifier, withCompletionEvents } from '#lib/tasks/completion-events';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { SqsTaskQueue } from '#lib/aws/sqs-task-queue';
import { SqsQueueGauge } from '#lib/aws/sqs-queue-gauge';
import { createStatsReader } from '#lib/tasks/stats';
import { systemClock } from '#lib/clock';
import { loadConfig } from '#lib/config';
import { logger } from '#lib/logger';
import { cloudWatchMetrics, countAwsRequest } from '#lib/aws/cloudwatch-metrics';
import { DynamoDbActivityLog } from '#lib/aws/dynamodb-activity-log';
import { createActivityRecorder } from '#lib/tasks/activity';
import { allOf } from '#lib/tasks/ports';
import { createTaskProcessor } from '#lib/tasks/processing';
import { createTaskService } from '#lib/tasks/service';
import { createBulkActions } from '#lib/tasks/bulk-actions';
import { createStaleTaskSweeper } from '#lib/tasks/sweeper';
import { createDueTaskDispatcher } from '#lib/tasks/dispatcher';
import { serviceKinds } from '#lib/kinds';
import { withXRay } from '#lib/tracer';

/**
 * The composition root: configuration, SDK clients and adapters are made once per Lambda
 * container, at cold start, and shared by every invocation that container serves.
 */
export const config = loadConfig();

// Where X-Ray is active, every DynamoDB and SQS call is a subsegment of the invocation's trace.
const documentClient = withXRay(createDocumentClient(countAwsRequest));
const dynamoDbTaskStore = new DynamoDbTaskStore(documentClient, config.TASKS_TABLE, {
  retentionDays: config.TASK_RETENTION_DAYS,
  dispatchAheadSeconds: config.TASK_DISPATCH_AHEAD_SECONDS,
});
const sqsClient = withXRay(createSqsClient(countAwsRequest));
const callbackQueue = new SqsCallbackQueue(sqsClient, config.TASK_CALLBACKS_QUEUE_URL);

/** Publishes every final status once (the final write marks it; this clears the mark), and relays what a stopped writer left. */
export const completionNotifier = createCompletionNotifier({
  store: dynamoDbTaskStore,
  bus: new EventBridgeEventBus(withXRay(createEventBridgeClient(countAwsRequest)), config.TASK_EVENT_BUS_NAME),
  callbacks: callbackQueue,
  clock: systemClock,
  logger,
  relayAfterSeconds: config.EVENT_RELAY_AFTER_SECONDS,
});

/** The task store every function uses: each applied final move is followed by its completion event. */
export const taskStore = withCompletionEvents(dynamoDbTaskStore, completionNotifier);

/** Which callback URLs this stage calls (checked at submit, and again at each connection). */
export const callbackPolicy = parseCallbackPolicy(config.CALLBACK_ALLOWED_HOSTS, config.CALLBACK_ALLOWED_PRIVATE_NETWORKS);
export const taskQueue = new SqsTaskQueue(sqsClient, config.TASKS_QUEUE_URL, { highPriorityQueueUrl: config.TASKS_HIGH_PRIORITY_QUEUE_URL });
const activityLog = new DynamoDbActivityLog(documentClient, config.TASKS_TABLE);

/** What the processors did, minute by minute, written once per invocation (the handlers flush it): GET /api/stats reads the last hour. */
export const activity = createActivityRecorder({ log: activityLog, clock: systemClock, logger });

/** The kinds this deployment runs: the built-in simulated job (the default), then the team's own (kinds/index.ts). */
export const taskKinds = serviceKinds({ workMs: config.TASK_WORK_MS, simulation: config.TASK_SIMULATION === 'on' });

export const taskService = createTaskService({
  store: taskStore,
  queue: taskQueue,
  clock: systemClock,
  logger,
  metrics: cloudWatchMetrics,
  dispatchAheadSeconds: config.TASK_DISPATCH_AHEAD_SECONDS,
});

/** The operator's actions on many tasks (redrive, cancel), built on the service's own retry and cancel. */
export const bulkActions = createBulkActions(taskService);

export const taskProcessor = createTaskProcessor({
  store: taskStore,
  queue: taskQueue,
  clock: systemClock,
  logger,
  kinds: taskKinds,
  leaseSeconds: config.PROCESSING_LEASE_SECONDS,
  cancelPollMs: config.CANCEL_POLL_MS,
  retryBaseDelaySeconds: config.RETRY_BASE_DELAY_SECONDS,
  maxReceiveCount: config.MAX_RECEIVE_COUNT,
  metrics: allOf(cloudWatchMetrics, activity.metrics),
});

/** Counts and queue depths for GET /api/stats, kept STATS_MAX_AGE_SECONDS per container. */
export const serviceStats = createStatsReader({
  store: taskStore,
  queue: new SqsQueueGauge(sqsClient, config.TASKS_QUEUE_URL),
  highPriorityQueue: new SqsQueueGauge(sqsClient, config.TASKS_HIGH_PRIORITY_QUEUE_URL),
  deadLetterQueue: new SqsQueueGauge(sqsClient, config.TASKS_DEAD_LETTER_QUEUE_URL),
  activity: activityLog,
  clock: systemClock,
  maxAgeSeconds: config.STATS_MAX_AGE_SECONDS,
});

export const requeueStaleTasks = createStaleTaskSweeper({
  store: taskStore,
  queue: taskQueue,
  clock: systemClock,
  logger,
  staleAfterSeconds: config.STALE_TASK_SECONDS,
  limit: 1_000,
});

export const dispatchDueTasks = createDueTaskDispatcher({
  store: taskStore,
  queue: taskQueue,
  clock: systemClock,
  logger,
  aheadSeconds: config.TASK_DISPATCH_AHEAD_SECONDS,
  limit: 1_000,
});

const signingSecret = async (): Promise<string> => {
  if (config.CALLBACK_SIGNING_SECRET !== undefined) return config.CALLBACK_SIGNING_SECRET;
  // Read when first needed and kept five minutes: a rotated secret is in use within that.
  const secret = await getParameter(config.CALLBACK_SIGNING_SECRET_PARAMETER!, { decrypt: true, maxAge: 300 });
  if (!secret) throw new Error(`SSM parameter ${config.CALLBACK_SIGNING_SECRET_PARAMETER} is empty`);
  return secret;
};

export const deliverCallback = createCallbackDeliverer({
  store: taskStore,
  sender: new HttpCallbackSender(callbackPolicy, config.CALLBACK_TIMEOUT_MS),
  queue: callbackQueue,
  clock: systemClock,
  logger,
  secret: signingSecret,
  maxAttempts: config.CALLBACK_MAX_ATTEMPTS,
  retryBaseDelaySeconds: config.CALLBACK_RETRY_BASE_SECONDS,
});
