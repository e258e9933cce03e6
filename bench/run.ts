import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Agent as HttpAgent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import { invokeFunction, startEmbeddedStack, type EmbeddedStack } from '../local/embedded-stack';
import { ConfigSchema } from '#lib/config';
import { statusShard } from '#lib/aws/list-indexes';
import { toItem } from '#lib/aws/task-item';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask, type TaskStatus } from '#lib/tasks/model';
import { renderChart } from './chart';
import { projectCost, PRICES } from './cost';
import { percentiles } from './stats';

/**
 * `npm run bench`: the service's throughput, latency and AWS requests per task, measured against
 * the embedded stack (or, with --endpoint, only the API parts against another deployment).
 * Prints progress and a summary table; writes bench/results/<timestamp>.json and .svg (chart).
 */
const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '2000' },
    'work-ms': { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '50' },
    endpoint: { type: 'string' },
    'phase-seconds': { type: 'string', default: '4' },
    /** End-to-end runs in the same stack: the first meets cold function instances, the next ones warm ones. */
    rounds: { type: 'string', default: '1' },
    /** Comma-separated: limit, in-flight, end-to-end, processor, submit. */
    phases: { type: 'string', default: 'limit,in-flight,end-to-end,processor,submit' },
  },
});
const PHASES = new Set(args.phases!.split(','));
const TASKS = Number(args.tasks);
const WORK_MS = Number(args['work-ms']);
const TRIGGER_CONCURRENCY = Number(args.concurrency);
const PHASE_MS = Number(args['phase-seconds']) * 1000;
const WARMUP_MS = 1_000;
/** The processor's cancel poll interval, as the stack's functions read it: the cost model needs it. */
const CANCEL_POLL_MS = ConfigSchema.shape.CANCEL_POLL_MS.parse(process.env.CANCEL_POLL_MS);
const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) };
  } catch {
    return { status: response.status, json: text };
  }
}

const taskBody = (n: number) => ({ title: `bench ${n}`, description: 'benchmark task', payload: { n } });

/**
 * 1. The limit: the minimal calls per task, straight against the emulators, at the best concurrency
 * tried. It writes to a copy of the tasks table (same keys, same status index) and items carry the
 * index's key as the service's do, so DynamoDB Local does the same work for both.
 */
async function limitResources(stack: EmbeddedStack) {
  // Sockets enough for every call in flight, so that the client's pool is never what limits the limit.
  const requestHandler = new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 4_000 }) });
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, requestHandler };
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...config, endpoint: stack.emulatorEndpoints.dynamodb }));
  const sqs = new SQSClient({ ...config, endpoint: stack.emulatorEndpoints.sqs });
  const table = `bench-limit-${Date.now()}`;
  const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: stack.env.TASKS_TABLE! }));
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: Table!.KeySchema,
      AttributeDefinitions: Table!.AttributeDefinitions,
      GlobalSecondaryIndexes: Table!.GlobalSecondaryIndexes?.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })),
    }),
  );
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: table }));

  /** One "batch" of 10 tasks: put and send each, receive 10, claim each, work `workMs`, complete each, delete 10. Answers how many it finished. */
  async function batch(workMs: number): Promise<number> {
    const ids = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(
      ids.map(async (id) => {
        await dynamo.send(new PutCommand({ TableName: table, Item: toItem(newTask({ title: 'limit', description: 'd', metadata: {} }, id, new Date())), ConditionExpression: 'attribute_not_exists(task_id)' }));
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: id }));
      }),
    );
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    const move = (id: string, from: TaskStatus, to: TaskStatus) =>
      dynamo.send(
        new UpdateCommand({
          TableName: table,
          Key: { task_id: id },
          UpdateExpression: 'SET #s = :to, status_shard = :shard',
          ConditionExpression: '#s = :from',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':from': from, ':to': to, ':shard': statusShard(to, id) },
        }),
      );
    await Promise.all(
      Messages.map(async (message) => {
        await move(message.Body!, 'PENDING', 'PROCESSING');
        if (workMs > 0) await sleep(workMs);
        await move(message.Body!, 'PROCESSING', 'COMPLETED');
      }),
    );
    if (Messages.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
    return Messages.length;
  }

  async function close() {
    await dynamo.send(new DeleteTableCommand({ TableName: table }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    dynamo.destroy();
    sqs.destroy();
  }
  return { batch, close };
}

async function measureLimit(stack: EmbeddedStack) {
  const limit = await limitResources(stack);
  const results: Array<{ workers: number; tasksPerSecond: number }> = [];
  for (const workers of [25, 50, 100]) {
    let done = 0;
    const deadline = Date.now() + PHASE_MS;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (Date.now() < deadline) done += await limit.batch(0);
      }),
    );
    results.push({ workers, tasksPerSecond: done / (PHASE_MS / 1000) });
    log(`limit with ${workers} workers: ${(done / (PHASE_MS / 1000)).toFixed(0)} tasks/s`);
  }
  await limit.close();
  return results.reduce((best, r) => (r.tasksPerSecond > best.tasksPerSecond ? r : best));
}

/**
 * 1b. The limit at the end-to-end run's own shape: TASKS tasks with their work time, as batches of
 * 10 with at most TRIGGER_CONCURRENCY batches in flight, through the minimal calls and nothing else.
 * The end-to-end wall time is compared with this one: the cost of the service's own machinery.
 */
async function measureLimitInFlight(stack: EmbeddedStack) {
  const limit = await limitResources(stack);
  let started = 0;
  const begin = Date.now();
  await Promise.all(
    Array.from({ length: TRIGGER_CONCURRENCY }, async () => {
      while (started < TASKS) {
        started += 10;
        await limit.batch(WORK_MS);
      }
    }),
  );
  const wallSeconds = (Date.now() - begin) / 1000;
  await limit.close();
  log(`limit in flight: ${TASKS} tasks of ${WORK_MS} ms, ${TRIGGER_CONCURRENCY} batches at once, in ${wallSeconds.toFixed(1)} s`);
  return { tasks: TASKS, batchesInFlight: TRIGGER_CONCURRENCY, wallSeconds };
}

/**
 * 2. Submit throughput and latency through the API Gateway emulator. The first second at each
 * load is warm-up, not recorded: new connections, and the JIT of the emulators catching up.
 */
async function measureSubmit(apiUrl: string, connections: number, batch: boolean) {
  const latencies: number[] = [];
  let tasks = 0;
  let errors = 0;
  const measuredFrom = Date.now() + WARMUP_MS;
  const deadline = measuredFrom + PHASE_MS;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const recorded = Date.now() >= measuredFrom;
        const started = performance.now();
        const response = batch
          ? await post(`${apiUrl}/tasks/batch`, { tasks: Array.from({ length: 10 }, (_, i) => taskBody(worker * 1e6 + n * 10 + i)) })
          : await post(`${apiUrl}/tasks`, taskBody(worker * 1e6 + n));
        if (!recorded) continue;
        latencies.push(performance.now() - started);
        if (response.status === 202) tasks += batch ? 10 : 1;
        else errors++;
      }
    }),
  );
  const result = { connections, batch, tasksPerSecond: tasks / (PHASE_MS / 1000), requests: latencies.length, errors, latencyMs: percentiles(latencies) };
  log(`submit ${batch ? 'batch of 10' : 'single'} at ${connections} connections: ${result.tasksPerSecond.toFixed(0)} tasks/s, p99 ${result.latencyMs.p99.toFixed(0)} ms`);
  return result;
}

/** Every task of the table created at or after `since`, read with a scan (the bench's own bookkeeping, not the service's). */
async function scanTasks(dynamo: DynamoDBDocumentClient, table: string, since: string) {
  const items: Array<Record<string, string>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'created_at >= :since AND begins_with(title, :bench)',
        ExpressionAttributeValues: { ':since': since, ':bench': 'e2e ' },
        ProjectionExpression: 'task_id, #s, created_at, started_at, completed_at',
        ExpressionAttributeNames: { '#s': 'status' },
        ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as Array<Record<string, string>>));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** 3. End to end: N tasks from the first submit until every one is COMPLETED. */
async function measureEndToEnd(stack: EmbeddedStack) {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: stack.emulatorEndpoints.dynamodb }),
  );
  const table = stack.env.TASKS_TABLE!;
  stack.requestCounts.reset();
  const since = new Date().toISOString();
  const started = Date.now();
  const batches = Array.from({ length: Math.ceil(TASKS / 100) }, (_, b) =>
    Array.from({ length: Math.min(100, TASKS - b * 100) }, (_, i) => ({ title: `e2e ${b * 100 + i}`, description: 'end to end' })),
  );
  // Batch submits, five requests in flight; a 503 (none of that batch runs) is retried after its Retry-After, as a client would.
  const accepted = new Set<string>();
  let unavailable = 0;
  const submitBatch = async (tasks: unknown[]): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const answer = await post(`${stack.apiUrl}/tasks/batch`, { tasks });
      if (answer.status === 202) {
        for (const task of (answer.json as { tasks: Array<{ task_id: string }> }).tasks) accepted.add(task.task_id);
        return;
      }
      if (answer.status !== 503 || attempt === 5) throw new Error(`batch submit failed: ${JSON.stringify(answer)}`);
      unavailable++;
      await sleep(5_000);
    }
  };
  for (let i = 0; i < batches.length; i += 5) await Promise.all(batches.slice(i, i + 5).map(submitBatch));
  const submittedMs = Date.now() - started;
  log(`end to end: ${TASKS} tasks submitted in ${(submittedMs / 1000).toFixed(1)} s (${unavailable} batch submit(s) answered 503 and retried)`);
  // Progress from batched, eventually consistent status reads of the accepted tasks only (tasks of a
  // batch answered 503 are not the run's, whatever became of them).
  const store = new DynamoDbTaskStore(dynamo, table);
  const acceptedIds = [...accepted];
  for (;;) {
    const statuses = await store.getStatuses(acceptedIds);
    const unfinished = acceptedIds.filter((id) => ['PENDING', 'PROCESSING'].includes(statuses.get(id) ?? 'PENDING')).length;
    log(`end to end: ${TASKS - unfinished}/${TASKS} finished`);
    if (unfinished === 0) break;
    if (Date.now() - started > 8 * 60_000) throw new Error('end to end did not finish within 8 minutes');
    await sleep(1_000);
  }
  // Only the accepted tasks: those of a batch answered 503 are FAILED and never ran.
  const items = (await scanTasks(dynamo, table, since)).filter((item) => accepted.has(item.task_id!));
  const notCompleted = items.filter((t) => t.status !== 'COMPLETED');
  if (items.length !== TASKS || notCompleted.length > 0) {
    throw new Error(`end to end: ${items.length} tasks found, ${notCompleted.length} not COMPLETED (${JSON.stringify(notCompleted.slice(0, 3))})`);
  }
  const wallMs = Math.max(...items.map((t) => Date.parse(t.completed_at!))) - started;
  const counts = stack.requestCounts.counts();
  dynamo.destroy();
  const firstCompletion = Math.min(...items.map((t) => Date.parse(t.completed_at!)));
  return {
    tasks: TASKS,
    batchSubmitsRetriedAfter503: unavailable,
    wallSeconds: wallMs / 1000,
    tasksPerSecond: TASKS / (wallMs / 1000),
    submitToCompleteMs: percentiles(items.map((t) => Date.parse(t.completed_at!) - Date.parse(t.created_at!))),
    completionsPerSecond: bucketPerSecond(items.map((t) => Date.parse(t.completed_at!)), firstCompletion),
    /** How many tasks took 0–1 s, 1–2 s, ... from submit to COMPLETED. */
    latencyHistogram: bucketPerSecond(items.map((t) => Date.parse(t.completed_at!) - Date.parse(t.created_at!)), 0),
    requestsPerTask: perTask(counts, TASKS),
  };
}

function bucketPerSecond(times: number[], from: number): number[] {
  const buckets: number[] = [];
  for (const time of times) {
    const second = Math.floor((time - from) / 1000);
    buckets[second] = (buckets[second] ?? 0) + 1;
  }
  return Array.from(buckets, (n) => n ?? 0);
}

/** Requests per task by service and operation, as the SDK middleware counted them. */
function perTask(counts: Record<string, number>, tasks: number) {
  const byService: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
  for (const [target, count] of Object.entries(counts)) {
    const service = target.startsWith('DynamoDB.') ? 'dynamodb' : target.startsWith('SQS.') ? 'sqs' : 'other';
    byService[service] = (byService[service] ?? 0) + count / tasks;
    byOperation[target] = count / tasks;
  }
  return { byService, byOperation };
}

/** 4. One batch of 10 tasks through the processor function: its wall time. */
async function measureProcessorBatch(stack: EmbeddedStack) {
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: stack.emulatorEndpoints.dynamodb }),
  );
  const ids = Array.from({ length: 10 }, () => randomUUID());
  // Stored directly, with no message, so the trigger does not race the direct invocation.
  await new DynamoDbTaskStore(dynamo, stack.env.TASKS_TABLE!).createMany(
    ids.map((id) => newTask({ title: 'batch of 10', description: 'd', metadata: {} }, id, new Date())),
  );
  const lambda = new LambdaClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: stack.lambdaEndpoint, maxAttempts: 1 });
  const event = {
    Records: ids.map((id) => ({
      messageId: randomUUID(),
      receiptHandle: 'bench',
      body: JSON.stringify({ task_id: id }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
      eventSource: 'aws:sqs',
    })),
  };
  const started = performance.now();
  const response = (await invokeFunction(lambda, 'task-service-local-processTasks', event)) as { batchItemFailures: unknown[] };
  const wallMs = performance.now() - started;
  lambda.destroy();
  dynamo.destroy();
  log(`processor: batch of 10 × ${WORK_MS} ms in ${(wallMs / 1000).toFixed(2)} s (${response.batchItemFailures.length} failures)`);
  return { wallSeconds: wallMs / 1000, failures: response.batchItemFailures.length };
}

/** After a submit phase: let the stack finish what it was given (up to three minutes), so phases do not overlap. Answers how many were left. */
async function drain(apiUrl: string): Promise<number> {
  let left: Array<{ task_id: string; status: string; attempts: number; created_at: string }> = [];
  for (let i = 0; i < 180; i++) {
    const pages = await Promise.all(
      ['PENDING', 'PROCESSING'].map((status) => fetch(`${apiUrl}/tasks?status=${status}&limit=100`).then((r) => r.json() as Promise<{ tasks: typeof left }>)),
    );
    left = pages.flatMap((page) => page.tasks);
    if (left.length === 0) return 0;
    await sleep(1_000);
  }
  const sample = left.slice(0, 3).map((t) => `${t.task_id} ${t.status} attempts ${t.attempts} created ${t.created_at}`);
  log(`drain: ${left.length} task(s) still PENDING or PROCESSING after three minutes (${sample.join('; ')}); going on`);
  return left.length;
}

interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

async function main() {
  const startedAt = new Date();
  let stack: EmbeddedStack | undefined;
  let apiUrl = args.endpoint;
  if (!apiUrl) {
    log(`starting the embedded stack (TASK_WORK_MS ${WORK_MS}, trigger concurrency ${TRIGGER_CONCURRENCY} batches)...`);
    stack = await startEmbeddedStack({ workMs: WORK_MS, maxConcurrency: TRIGGER_CONCURRENCY, logLevel: 'ERROR', echo: process.env.BENCH_ECHO === '1' });
    apiUrl = stack.apiUrl;
  }
  try {
    const limit = stack && PHASES.has('limit') ? await measureLimit(stack) : undefined;
    const limitInFlight = stack && PHASES.has('in-flight') ? await measureLimitInFlight(stack) : undefined;
    const endToEndRounds = [];
    for (let round = 1; stack && PHASES.has('end-to-end') && round <= Number(args.rounds); round++) {
      const result = await measureEndToEnd(stack);
      log(`end to end, round ${round} (${round === 1 ? 'cold instances' : 'warm instances'}): ${result.wallSeconds.toFixed(1)} s`);
      endToEndRounds.push(result);
    }
    // The figures that follow are the last round's: with more than one, warm instances, as in steady use.
    const endToEnd = endToEndRounds.at(-1);
    const processorBatch = stack && PHASES.has('processor') ? await measureProcessorBatch(stack) : undefined;
    const submits = [];
    for (const batch of PHASES.has('submit') ? [false, true] : []) {
      for (const connections of [1, 10, 50]) {
        // The processor would compete with the API for this machine's two cores; on AWS they share nothing.
        stack?.pauseTriggers();
        const result = await measureSubmit(apiUrl, connections, batch);
        stack?.resumeTriggers();
        const leftAfterDrain = stack ? await drain(apiUrl) : 0;
        submits.push({ ...result, leftAfterDrain });
      }
    }
    // SQS requests per task with single submits: one send per task plus the trigger's receive and delete.
    const singleSqs = endToEnd ? 1 + (endToEnd.requestsPerTask.byService.sqs ?? 0) - (endToEnd.requestsPerTask.byOperation['SQS.SendMessageBatch'] ?? 0) : undefined;
    const costs = endToEnd ? projectCost({ byOperation: endToEnd.requestsPerTask.byOperation, workMs: WORK_MS, cancelPollMs: CANCEL_POLL_MS }) : undefined;

    const p99At50 = submits.find((s) => s.connections === 50 && !s.batch)?.latencyMs.p99;
    const dynamoWrites = endToEnd
      ? Object.entries(endToEnd.requestsPerTask.byOperation)
          .filter(([op]) => /PutItem|UpdateItem|BatchWriteItem|TransactWriteItems|DeleteItem/.test(op))
          .reduce((sum, [op, n]) => sum + (op.endsWith('BatchWriteItem') ? 1 : n), 0)
      : undefined;
    const fmt = (n: number | undefined, digits = 2) => (n === undefined ? 'n/a' : n.toFixed(digits));
    const targets: Target[] = [
      {
        name: `end to end vs the limit at ${TRIGGER_CONCURRENCY} batches in flight (wall time)`,
        target: '≤ 1.1x',
        measured: endToEnd && limitInFlight ? `${fmt(endToEnd.wallSeconds / limitInFlight.wallSeconds)}x (${fmt(endToEnd.wallSeconds, 1)} s vs ${fmt(limitInFlight.wallSeconds, 1)} s)` : 'n/a',
        met: endToEnd && limitInFlight ? endToEnd.wallSeconds / limitInFlight.wallSeconds <= 1.1 : null,
      },
      { name: 'end to end vs the limit', target: '≥ 0.9', measured: fmt(endToEnd && limit ? endToEnd.tasksPerSecond / limit.tasksPerSecond : undefined), met: endToEnd && limit ? endToEnd.tasksPerSecond / limit.tasksPerSecond >= 0.9 : null },
      { name: 'batch of 10 three-second tasks', target: '≤ 3.3 s', measured: processorBatch ? `${fmt(processorBatch.wallSeconds)} s` : 'n/a', met: processorBatch ? processorBatch.wallSeconds <= 3.3 : null },
      { name: 'DynamoDB writes per task', target: '≤ 3', measured: fmt(dynamoWrites), met: dynamoWrites === undefined ? null : dynamoWrites <= 3 },
      { name: 'SQS requests per task, single submits', target: '≤ 1.3', measured: fmt(singleSqs), met: singleSqs === undefined ? null : singleSqs <= 1.3 },
      { name: 'SQS requests per task, batch submits', target: '≤ 0.4', measured: fmt(endToEnd?.requestsPerTask.byService.sqs), met: endToEnd ? (endToEnd.requestsPerTask.byService.sqs ?? 0) <= 0.4 : null },
      { name: 'submit p99 at 50 connections', target: '≤ 250 ms', measured: `${fmt(p99At50, 0)} ms`, met: p99At50 === undefined ? null : p99At50 <= 250 },
      { name: 'cost per million tasks, batch submits', target: '≤ $3', measured: costs ? `$${costs.batch.total.toFixed(2)} (list indexes $${costs.listIndexes.toFixed(2)} of it)` : 'n/a', met: costs ? costs.batch.total <= 3 : null },
      { name: 'cost per million tasks, single submits', target: 'reported', measured: costs ? `$${costs.single.total.toFixed(2)}` : 'n/a', met: null },
    ];

    const results = { startedAt: startedAt.toISOString(), machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, settings: { TASKS, WORK_MS, TRIGGER_CONCURRENCY, PHASE_MS, PHASES: [...PHASES] }, limit, limitInFlight, endToEndRounds: endToEndRounds.map(({ wallSeconds, batchSubmitsRetriedAfter503 }) => ({ wallSeconds, batchSubmitsRetriedAfter503 })), endToEnd, processorBatch, submits, costs, prices: PRICES, targets };
    mkdirSync('bench/results', { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    writeFileSync(`bench/results/${stamp}.json`, JSON.stringify(results, null, 2));
    writeFileSync(`bench/results/${stamp}.svg`, renderChart(results));

    console.log('\nSubmit throughput and latency (ms):');
    console.table(submits.map((s) => ({ mode: s.batch ? 'batch of 10' : 'single', connections: s.connections, 'tasks/s': Math.round(s.tasksPerSecond), p50: Math.round(s.latencyMs.p50), p95: Math.round(s.latencyMs.p95), p99: Math.round(s.latencyMs.p99), errors: s.errors })));
    if (endToEnd && limit) {
      console.log(`\nLimit: ${limit.tasksPerSecond.toFixed(0)} tasks/s (${limit.workers} workers). End to end: ${TASKS} tasks in ${endToEnd.wallSeconds.toFixed(1)} s = ${endToEnd.tasksPerSecond.toFixed(0)} tasks/s; submit→complete p50 ${endToEnd.submitToCompleteMs.p50.toFixed(0)} ms, p95 ${endToEnd.submitToCompleteMs.p95.toFixed(0)} ms, p99 ${endToEnd.submitToCompleteMs.p99.toFixed(0)} ms`);
      console.log('AWS requests per task (batch submits):');
      console.table(Object.fromEntries(Object.entries(endToEnd.requestsPerTask.byOperation).map(([op, n]) => [op, { perTask: Number(n.toFixed(3)) }])));
    }
    console.log('\nTargets:');
    console.table(targets.map((t) => ({ target: t.name, wanted: t.target, measured: t.measured, met: t.met === null ? '—' : t.met ? 'yes' : 'NO' })));
    console.log(`\nWrote bench/results/${stamp}.json and bench/results/${stamp}.svg`);
  } finally {
    await stack?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
