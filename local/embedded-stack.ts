// The embedded stack, start to stop: about 280 lines because it wires six parts in order (three
// emulators, the resources, serverless-offline, the triggers, the schedules) and undoes them in
// reverse on any failure; each part lives in a module beside it (emulators, event-bus, resources, processes, trigger).
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { Agent as HttpAgent, get } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal, startSqsEmulator, type Emulator } from './emulators';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from './processes';
import { createRequestTally, type RequestTally } from './request-tally';
import { createResources, type CreatedResources } from './resources';
import { readServiceDefinition, serverlessBin, type ServiceDefinition, type SqsTrigger } from './service-definition';
import { countRequests } from '#lib/aws/clients';
import { startQueueTrigger, type BatchInvoker, type QueueTrigger } from './trigger';
import { startLocalEventBus } from './event-bus';

export interface EmbeddedStackOptions {
  /** API port; unset picks a free one. */
  port?: number;
  /** Emulator ports; unset picks free ones. */
  dynamoDbPort?: number;
  sqsPort?: number;
  eventBusPort?: number;
  /** Simulated work time of a task. */
  workMs?: number;
  retryBaseDelaySeconds?: number;
  cancelPollMs?: number;
  /** Overrides the queues' visibility timeout (tests want crashed batches back quickly). */
  visibilityTimeoutSeconds?: number;
  /** Batches each SQS trigger works at once, as the event source mapping's maximum concurrency. */
  maxConcurrency?: number;
  /** Replaces the `rate(...)` of every scheduled function (tests run the sweeper every few seconds), or of those named. */
  scheduleEveryMs?: number | Record<string, number>;
  /** Overrides TASK_DISPATCH_AHEAD_SECONDS (tests hold tasks due a few seconds ahead, for the dispatcher). */
  dispatchAheadSeconds?: number;
  /** Overrides STALE_TASK_SECONDS. */
  staleTaskSeconds?: number;
  /** Overrides EVENT_RELAY_AFTER_SECONDS (tests relay an unpublished event after seconds, not a minute). */
  eventRelayAfterSeconds?: number;
  /** Override CALLBACK_MAX_ATTEMPTS and CALLBACK_RETRY_BASE_SECONDS (tests give up on a callback in seconds). */
  callbackMaxAttempts?: number;
  callbackRetryBaseSeconds?: number;
  logLevel?: string;
  /** Print serverless-offline's output (the functions' logs) to this process's stdout. */
  echo?: boolean;
  /** With `echo`: print the functions' CloudWatch EMF metrics lines too (one per invocation), not only their logs. */
  showMetrics?: boolean;
  /** Append serverless-offline's output (the functions' log lines) to this file: what the tests read the logs from. */
  logFile?: string;
  /** Start with the SQS triggers paused (`resumeTriggers` starts them): a task then waits for `serverless invoke local`. */
  triggersPaused?: boolean;
  /**
   * Endpoints the functions use instead of the emulators' own, given those: what puts a fault proxy
   * between the functions and the emulators (`npm run chaos`). The triggers still talk to SQS
   * directly, as Lambda's pollers are not the functions' calls.
   */
  functionEndpoints?: (emulators: { dynamodb: string; sqs: string }) => Promise<{ dynamodb: string; sqs: string }>;
  /** The task kinds' registry the functions are built with (TASK_KINDS_MODULE; default kinds/index.ts), relative to the project. */
  kindsModule?: string;
  stage?: string;
  projectRoot?: string;
}

export interface EmbeddedStack {
  apiUrl: string;
  /** The emulators, for tools that talk to them directly (the bench's own bookkeeping). */
  /** `events`: the local EventBridge (local/event-bus.ts), whose GET /events tells what was published. */
  emulatorEndpoints: { dynamodb: string; sqs: string; events: string };
  /** The processes the stack runs in, by what they hold (the SQS emulator and the triggers run in the launcher's). */
  processes: { serverlessOffline: number; dynamoDbLocal: number; launcher: number };
  /** AWS requests made by the functions and the triggers, by operation. */
  requestCounts: Pick<RequestTally, 'counts' | 'reset'>;
  /** serverless-offline's Lambda API, to invoke a function by name. */
  lambdaEndpoint: string;
  /** Environment that points the AWS SDK and the service's configuration at this stack. */
  env: Record<string, string>;
  definition: ServiceDefinition;
  resources: CreatedResources;
  /** Invokes a function of serverless.yml by its key (`processTasks`), as Lambda's Invoke does: its answer. */
  invoke(functionKey: string, event: unknown): Promise<unknown>;
  /** Stops and restarts the SQS triggers' polling, as disabling and enabling an event source mapping. */
  pauseTriggers(): void;
  resumeTriggers(): void;
  stop(): Promise<void>;
}

export const DEFAULT_TRIGGER_CONCURRENCY = 10;
const INVOKE_TIMEOUT_MS = 90_000;

/** The status of a GET on a fresh connection: a pooled keep-alive socket would hold the launcher open after stop. */
function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** An invocation that the function answered with an error (Invoke's `FunctionError`), as opposed to one that never reached it. */
export class FunctionError extends Error {}

/** Invokes a function through serverless-offline's Lambda API, as AWS's event sources invoke it. */
export async function invokeFunction(lambda: LambdaClient, functionName: string, event: unknown): Promise<unknown> {
  // An invocation that never answers must not hold its batch for ever: give up after the longest function timeout.
  const response = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
    { abortSignal: AbortSignal.timeout(INVOKE_TIMEOUT_MS) },
  );
  const payload = response.Payload ? Buffer.from(response.Payload).toString() : '';
  if (response.FunctionError) throw new FunctionError(`${functionName} failed: ${payload}`);
  return payload ? JSON.parse(payload) : undefined;
}

/** The ping every handler answers at once (`@middy/warmup`, lib/handlers/base.ts): it only initialises an instance. */
const WARMUP_EVENT = { source: 'serverless-plugin-warmup' };

/**
 * Starts `instances` instances of a function at once, each initialised, as provisioned concurrency
 * would. A ping that never reached a function is sent once more: it only initialises an instance, so
 * a second one is harmless, and serverless-offline's Lambda port has reset a connection at a start
 * (`read ECONNRESET`), which failed the whole stack. A function's own error is not sent again.
 */
export async function warmUp(lambda: Pick<LambdaClient, 'send'>, functionName: string, instances: number): Promise<void> {
  const ping = () => invokeFunction(lambda as LambdaClient, functionName, WARMUP_EVENT);
  await Promise.all(Array.from({ length: instances }, () => ping().catch((error: unknown) => (error instanceof FunctionError ? Promise.reject(error) : ping()))));
}

/**
 * The instances started before the first request, as provisioned concurrency would have them: one of
 * each API function and each queue-triggered one, and of the functions serverless.yml names in
 * `custom.localInstances.warmToTriggerConcurrency` (the task lanes, whose first batches a client
 * waits on) as many as their triggers run batches at once. The others start more on demand, up to
 * their limits: each instance is an isolate of about 40 MB.
 */
export function warmUpPlan(definition: ServiceDefinition, concurrencyOf: (trigger: SqsTrigger) => number): Array<{ functionKey: string; instances: number }> {
  return [
    ...definition.triggers.map((trigger) => ({
      functionKey: trigger.functionKey,
      instances: definition.warmToTriggerConcurrency.includes(trigger.functionKey) ? concurrencyOf(trigger) : 1,
    })),
    ...definition.apiFunctions.map((functionKey) => ({ functionKey, instances: 1 })),
  ];
}

const lambdaInvoker =
  (lambda: LambdaClient, functionName: string): BatchInvoker =>
  async (event) =>
    (await invokeFunction(lambda, functionName, event)) as SQSBatchResponse | undefined;

/**
 * The whole service on this machine, no Docker: DynamoDB Local, an SQS emulator and a local
 * EventBridge (local/event-bus.ts), the table and queues serverless.yml declares, serverless-offline serving the API and the functions, and an
 * SQS trigger per `sqs` event of serverless.yml.
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions = {}): Promise<EmbeddedStack> {
  const projectRoot = options.projectRoot ?? process.cwd();
  const stage = options.stage ?? 'local';
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };

  try {
    const pick = (port?: number) => (port === undefined ? freePort() : Promise.resolve(port));
    const [dynamoPort, sqsPort, eventBusPort, apiPort, lambdaPort] = await Promise.all([
      pick(options.dynamoDbPort),
      pick(options.sqsPort),
      pick(options.eventBusPort),
      pick(options.port),
      freePort(),
    ]);
    const [dynamo, sqsEmulator, eventBus, definition] = await Promise.all([
      startDynamoDbLocal(dynamoPort, projectRoot).then(register),
      startSqsEmulator(sqsPort).then(register),
      startLocalEventBus(eventBusPort).then(register),
      readServiceDefinition(stage, projectRoot),
    ]);
    function register(emulator: Emulator) {
      stops.push(() => emulator.stop());
      return emulator;
    }

    const requestCounts = createRequestTally();
    const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const dynamodb = new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sqsEmulator.endpoint });
    // The triggers' receives and deletes are what Lambda's pollers would send: counted with the functions' requests.
    countRequests(sqs, 'SQS', requestCounts.add);
    stops.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });
    const resources = await createResources(definition, { dynamodb, sqs }, {
      emulatorRedrive: false,
      ...(options.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    });
    const tasksQueue = resources.queues.TasksQueue;
    if (!tasksQueue) throw new Error('serverless.yml declares no TasksQueue');
    const emulatorEndpoints = { dynamodb: dynamo.endpoint, sqs: sqsEmulator.endpoint, events: eventBus.endpoint };
    const functionEndpoints = options.functionEndpoints ? await options.functionEndpoints(emulatorEndpoints) : emulatorEndpoints;
    const eventBusName = Object.values(definition.resources).find((resource) => resource.Type === 'AWS::Events::EventBus')?.Properties.Name;

    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: functionEndpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: functionEndpoints.sqs,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBus.endpoint,
      TASK_EVENT_BUS_NAME: String(eventBusName ?? ''),
      TASK_CALLBACKS_QUEUE_URL: resources.queues.TaskCallbacksQueue?.url ?? '',
      // What the stage's functions sign and check callbacks with (serverless.yml): scripts and tests against the stack need the same.
      CALLBACK_SIGNING_SECRET: definition.environment.CALLBACK_SIGNING_SECRET ?? '',
      CALLBACK_ALLOWED_PRIVATE_NETWORKS: definition.environment.CALLBACK_ALLOWED_PRIVATE_NETWORKS ?? '',
      TASKS_QUEUE_URL: tasksQueue.url,
      TASKS_DEAD_LETTER_QUEUE_URL: resources.queues.TasksDeadLetterQueue?.url ?? '',
      TASKS_HIGH_PRIORITY_QUEUE_URL: resources.queues.TasksHighPriorityQueue?.url ?? '',
      TASKS_TABLE: Object.values(resources.tables)[0] ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    // A queue-triggered function may run as many instances as its trigger runs batches at once.
    const concurrencyOf = (trigger: SqsTrigger) =>
      Math.min(options.maxConcurrency ?? DEFAULT_TRIGGER_CONCURRENCY, trigger.maximumConcurrency ?? Infinity);
    const instanceLimits = Object.fromEntries(definition.triggers.map((trigger) => [`LOCAL_MAX_INSTANCES_${trigger.functionKey}`, String(concurrencyOf(trigger))]));
    const bundleFolder = `.esbuild-offline/${apiPort}`;
    const offline: ManagedProcess = startProcess(
      process.execPath,
      // Every Lambda instance is a V8 isolate in this one process, each with a young generation that
      // V8 lets grow to 16 MB per semi-space: with 1 MB, the bench's 100 or so instances peaked at
      // 2.7 GB instead of 4.2 GB (docs/performance.md). V8 flags hold for every isolate of a process.
      // Node answers a request head over 16 KB with a bare 400 before any function sees it; 64 KB lets a
      // long URL reach the API, which answers it in the contract's shape (a cursor "is too long").
      ['--max-semi-space-size=1', '--max-http-header-size=65536', serverlessBin(projectRoot), 'offline', 'start', '--stage', stage],
      {
        ...process.env,
        ...env,
        ...instanceLimits,
        PORT: String(apiPort),
        LAMBDA_PORT: String(lambdaPort),
        SLS_TELEMETRY_DISABLED: '1',
        ESBUILD_WORK_FOLDER: bundleFolder,
        ...(options.workMs === undefined ? {} : { TASK_WORK_MS: String(options.workMs) }),
        ...(options.retryBaseDelaySeconds === undefined ? {} : { RETRY_BASE_DELAY_SECONDS: String(options.retryBaseDelaySeconds) }),
        ...(options.cancelPollMs === undefined ? {} : { CANCEL_POLL_MS: String(options.cancelPollMs) }),
        ...(options.logLevel === undefined ? {} : { LOG_LEVEL: options.logLevel }),
        ...(options.staleTaskSeconds === undefined ? {} : { STALE_TASK_SECONDS: String(options.staleTaskSeconds) }),
        ...(options.dispatchAheadSeconds === undefined ? {} : { TASK_DISPATCH_AHEAD_SECONDS: String(options.dispatchAheadSeconds) }),
        ...(options.kindsModule === undefined ? {} : { TASK_KINDS_MODULE: options.kindsModule }),
        ...(options.eventRelayAfterSeconds === undefined ? {} : { EVENT_RELAY_AFTER_SECONDS: String(options.eventRelayAfterSeconds) }),
        ...(options.callbackMaxAttempts === undefined ? {} : { CALLBACK_MAX_ATTEMPTS: String(options.callbackMaxAttempts) }),
        ...(options.callbackRetryBaseSeconds === undefined ? {} : { CALLBACK_RETRY_BASE_SECONDS: String(options.callbackRetryBaseSeconds) }),
      },
      options.echo ? (line) => options.showMetrics === true || !line.includes('{"_aws"') : false,
      options.logFile === undefined
        ? requestCounts.addFromLogLine
        : (line) => {
            requestCounts.addFromLogLine(line);
            appendFileSync(options.logFile!, `${line}\n`);
          },
    );
    // This stack's bundles (about 130 MB) go once serverless-offline has stopped: every start builds its own.
    stops.push(async () => rmSync(join(projectRoot, bundleFolder), { recursive: true, force: true }));
    stops.push(() => offline.stop());
    const apiUrl = `http://127.0.0.1:${apiPort}/api`;
    await waitUntilReady(
      'serverless-offline',
      async () => {
        const status = await httpStatus(`${apiUrl}/health`);
        if (status !== 200) throw new Error(`health answered ${status}`);
      },
      offline,
      120_000,
    );

    const lambda = new LambdaClient({
      ...clientConfig,
      endpoint: `http://127.0.0.1:${lambdaPort}`,
      maxAttempts: 1,
      // A fresh connection per invocation: a kept-alive socket that serverless-offline closes as idle
      // just as an invocation reuses it fails that invocation with ECONNRESET, and its batch waits
      // out the visibility timeout.
      requestHandler: new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: false }) }),
    });
    stops.push(async () => lambda.destroy());
    const functionNameOf = (functionKey: string) => `${definition.service}-${stage}-${functionKey}`;
    await Promise.all(warmUpPlan(definition, concurrencyOf).map(({ functionKey, instances }) => warmUp(lambda, functionNameOf(functionKey), instances)));
    const triggers: QueueTrigger[] = definition.triggers.map((trigger) => {
      const queue = resources.queues[trigger.queueLogicalId];
      if (!queue) throw new Error(`${trigger.functionKey}: no queue ${trigger.queueLogicalId}`);
      return startQueueTrigger({
        sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: LOCAL_REGION,
        invoke: lambdaInvoker(lambda, trigger.functionName),
        batchSize: trigger.batchSize,
        batchingWindowSeconds: trigger.maximumBatchingWindow,
        maxConcurrency: concurrencyOf(trigger),
        reportBatchItemFailures: trigger.reportBatchItemFailures,
        ...(queue.redrive ? { redrive: queue.redrive } : {}),
        onError: (error) => {
          if (options.echo) console.error(`[trigger ${trigger.functionKey}] ${error.message}`);
        },
      });
    });
    const timers = definition.schedules.map((schedule) =>
      setInterval(() => {
        invokeFunction(lambda, schedule.functionName, { source: 'aws.events', 'detail-type': 'Scheduled Event' }).catch(
          (error: Error) => options.echo && console.error(`[schedule ${schedule.functionKey}] ${error.message}`),
        );
      }, (typeof options.scheduleEveryMs === 'number' ? options.scheduleEveryMs : options.scheduleEveryMs?.[schedule.functionKey]) ?? schedule.everyMs),
    );
    if (options.triggersPaused) triggers.forEach((trigger) => trigger.pause());
    // Triggers and schedules stop first: nothing may start while the functions go away.
    stops.push(async () => {
      timers.forEach((timer) => clearInterval(timer));
      await Promise.all(triggers.map((trigger) => trigger.stop()));
    });

    return {
      apiUrl,
      processes: { serverlessOffline: offline.child.pid!, dynamoDbLocal: dynamo.pid, launcher: sqsEmulator.pid },
      lambdaEndpoint: `http://127.0.0.1:${lambdaPort}`,
      emulatorEndpoints,
      requestCounts,
      invoke: (functionKey, event) => invokeFunction(lambda, functionNameOf(functionKey), event),
      pauseTriggers: () => triggers.forEach((trigger) => trigger.pause()),
      resumeTriggers: () => triggers.forEach((trigger) => trigger.resume()),
      env,
      definition,
      resources,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
