import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { startEmbeddedStack, type EmbeddedStack } from '../local/embedded-stack';
import { emulatorClients } from '../local/emulator-clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { checkHistory, INVARIANTS, type Violation } from './checker';
import { startFaultProxy, type FaultProxy, type ProxyFault } from './fault-proxy';
import { FAULT_KINDS, HistoryLog, type FaultKind, type InvokeEvent, type OpKind, type TaskState } from './history';
import { startCallbackReceiver } from '../local/callback-receiver';
import { verifyCallback } from '#lib/tasks/callback-delivery';
import type { ReceivedEvent } from '../local/event-bus';

export interface ChaosOptions {
  seconds: number;
  /**
   * Keeps the run going past `seconds` until the clients have made this many single submits (for at
   * most four times as long): how a short run proves it did something whatever the machine's speed.
   */
  minSubmits?: number;
  seed: number;
  clients: number;
  /** Where the history goes, one JSON object per line. */
  historyFile?: string;
  log?: (message: string) => void;
}

export interface ChaosReport {
  seed: number;
  seconds: number;
  clients: number;
  operations: Record<string, number>;
  answers: Record<string, number>;
  /** Fault windows opened, and faults injected (requests faulted, messages duplicated, workers killed), by kind. */
  faultWindows: Record<string, number>;
  faultsInjected: Record<string, number>;
  invariants: readonly string[];
  violations: Array<Violation & { history: unknown[] }>;
  unfinishedAfterDrain: number;
}

/** Deterministic randomness from the seed (mulberry32): the same seed, the same schedule of operations and faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Effects of a fault may show this long after its window: SDK retries, backoffs, a killed worker's 30 s lease. */
export const FAULT_SLACK_MS = 45_000;
const DRAIN_BOUND_MS = 180_000;
/** After the drain: how long the relay and the callbacks' retries have to finish what the faults left. */
const SETTLE_BOUND_MS = 120_000;
const CALLBACK_MAX_ATTEMPTS = 3;
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * `npm run chaos`: random clients against the embedded stack while faults are injected on a
 * schedule drawn from the seed; then the faults stop, the queue drains, and the whole history is
 * checked against the service's promises (chaos/checker.ts).
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  // One stream per actor, so that one's draws do not shift another's with the run's timing.
  const random = seededRandom(options.seed);
  const streamOf = (actor: number) => seededRandom(options.seed * 7_919 + actor);
  const pickWith = <T>(draw: () => number, items: readonly T[]): T => items[Math.floor(draw() * items.length)]!;
  const pick = <T>(items: readonly T[]): T => pickWith(random, items);
  const run = `chaos-${options.seed}-${randomUUID().slice(0, 8)}`;
  const history = new HistoryLog(options.historyFile);
  let submitsMade = 0;
  const proxies: Partial<Record<'dynamodb' | 'sqs', FaultProxy>> = {};

  log(`starting the embedded stack with fault proxies (seed ${options.seed})...`);
  const receiver = await startCallbackReceiver();
  const stack: EmbeddedStack = await startEmbeddedStack({
    // An event its writer could not publish is relayed 5 s after its final write; a callback is tried 3 times, 1 s and 2 s apart.
    eventRelayAfterSeconds: 5,
    callbackMaxAttempts: CALLBACK_MAX_ATTEMPTS,
    callbackRetryBaseSeconds: 1,
    workMs: 300,
    cancelPollMs: 100,
    retryBaseDelaySeconds: 1,
    visibilityTimeoutSeconds: 30,
    maxConcurrency: 10,
    // The sweeper runs often and soon, so that a task it should never run (a batch answered 503) would show within the drain.
    staleTaskSeconds: 20,
    scheduleEveryMs: 5_000,
    // Delays of 3 s and more are held for the dispatcher (every 5 s, as every schedule here); shorter ones ride SQS's delay.
    dispatchAheadSeconds: 2,
    logLevel: 'ERROR',
    functionEndpoints: async (emulators) => {
      proxies.dynamodb = await startFaultProxy(emulators.dynamodb, 'dynamodb', { random: streamOf(1_001) });
      proxies.sqs = await startFaultProxy(emulators.sqs, 'sqs', { random: streamOf(1_002) });
      return { dynamodb: proxies.dynamodb.endpoint, sqs: proxies.sqs.endpoint };
    },
  });
  const clients = emulatorClients(stack);
  const store = new DynamoDbTaskStore(clients.dynamo, stack.env.TASKS_TABLE!);
  const queueUrl = stack.resources.queues.TasksQueue!.url;
  const accepted: string[] = [];
  const faultWindows: Record<string, number> = {};
  const injected: Record<string, number> = {};
  const count = (map: Record<string, number>, key: string, n = 1) => (map[key] = (map[key] ?? 0) + n);
  let nextOp = 1;
  const runStart = new Date().toISOString();

  /** One request, recorded with its answer; status 0 when none came. */
  async function call(client: number, kind: OpKind, request: { method: string; path: string; body?: unknown; headers?: Record<string, string> }, extra: Partial<InvokeEvent> = {}) {
    const op = nextOp++;
    history.record({ type: 'invoke', op, client, kind, at: Date.now(), ...extra });
    let status = 0;
    let body: unknown;
    let retryAfter: string | undefined;
    try {
      const response = await fetch(`${stack.apiUrl}${request.path}`, {
        method: request.method,
        headers: { ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...request.headers },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after') ?? undefined;
      const text = await response.text();
      body = text ? JSON.parse(text) : undefined;
    } catch {
      status = 0;
    }
    history.record({ type: 'answer', op, at: Date.now(), status, ...(retryAfter ? { retry_after: retryAfter } : {}), ...(body === undefined ? {} : { body }) });
    return { status, body, retryAfter };
  }

  async function client(id: number, running: () => boolean) {
    const random = streamOf(id);
    const pick = <T>(items: readonly T[]): T => pickWith(random, items);
    const simulate = () => ({ fail_attempts: pick([0, 0, 0, 0, 1, 2, 3]), work_ms: 100 + Math.floor(random() * 400) });
    // A delayed start for three tasks in ten: a short one (SQS's own delay), or one the dispatcher holds.
    const delay = (): { delay_seconds?: number } => pick([{}, {}, {}, {}, {}, {}, {}, { delay_seconds: 1 }, { delay_seconds: 2 }, { delay_seconds: 3 + Math.floor(random() * 4) }]);
    // One task in five in the high-priority lane, one in four with a callback: answered at once, after a failure, or never.
    const lane = (): { priority?: 'high' } => (random() < 0.2 ? { priority: 'high' } : {});
    const callback = (): { callback_url?: string } =>
      random() < 0.25 ? { callback_url: receiver.url(`/${pick(['ok', 'ok', 'flaky/1', 'down'])}/${randomUUID()}`) } : {};
    const extras = () => ({ ...delay(), ...lane(), ...callback() });
    while (running()) {
      const roll = random();
      if (roll < 0.3) {
        const sim = simulate();
        const key = `${run}-${nextOp}`;
        const body = { title: `${run} single`, description: 'chaos', payload: { simulate: sim }, ...extras() };
        submitsMade += 1;
        // A client retries a submit that got 503 or no answer, with the same Idempotency-Key.
        for (let attempt = 0; attempt < 3; attempt++) {
          const answer = await call(id, 'submit', { method: 'POST', path: '/tasks', body, headers: { 'Idempotency-Key': key } }, { idempotency_key: key, fail_attempts: [sim.fail_attempts] });
          if (answer.status === 202) accepted.push((answer.body as { task_id: string }).task_id);
          if (answer.status !== 503 && answer.status !== 0) break;
          await sleep(Math.min(Number(answer.retryAfter ?? 1), 2) * 1000);
        }
      } else if (roll < 0.4) {
        const marker = `${run} batch ${nextOp}`;
        const sims = Array.from({ length: 2 + Math.floor(random() * 8) }, simulate);
        const answer = await call(
          id,
          'batch',
          { method: 'POST', path: '/tasks/batch', body: { tasks: sims.map((sim, n) => ({ title: `${marker} ${n}`, description: 'chaos', payload: { simulate: sim }, ...extras() })) } },
          { marker, fail_attempts: sims.map((sim) => sim.fail_attempts) },
        );
        if (answer.status === 202) accepted.push(...(answer.body as { tasks: Array<{ task_id: string }> }).tasks.map((task) => task.task_id));
      } else if (roll < 0.7 && accepted.length > 0) {
        const taskId = pick(accepted);
        const wait = random() < 0.3 ? 1 + Math.floor(random() * 3) : undefined;
        await call(id, 'get', { method: 'GET', path: `/tasks/${taskId}${wait ? `?wait=${wait}` : ''}` }, { task_id: taskId, ...(wait ? { wait } : {}) });
      } else if (roll < 0.85 && accepted.length > 0) {
        const taskId = pick(accepted.slice(-50));
        await call(id, 'cancel', { method: 'POST', path: `/tasks/${taskId}/cancel` }, { task_id: taskId });
      } else if (roll < 0.9) {
        await walk(id);
      } else {
        await sleep(50);
      }
    }
  }

  /** A list walk over this run's tasks, newest first, page by page. */
  let walks = 0;
  async function walk(id: number) {
    const walkId = ++walks;
    const from = Date.now();
    const listed: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 500; page++) {
      const answer = await call(id, 'list', { method: 'GET', path: `/tasks?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` });
      // A page refused during a fault is retried from the same cursor, as a client would.
      if (answer.status !== 200) {
        if (Date.now() - from > 60_000) return;
        await sleep(500);
        continue;
      }
      const body = answer.body as { tasks: Array<{ task_id: string; created_at: string }>; next_cursor: string | null };
      listed.push(...body.tasks.filter((task) => task.created_at >= runStart).map((task) => task.task_id));
      if (!body.next_cursor || body.tasks.some((task) => task.created_at < runStart)) break;
      cursor = body.next_cursor;
    }
    history.record({ type: 'walk', walk: walkId, from, to: Date.now(), listed });
  }

  /** Faults on a schedule from the seed: short windows, sometimes two kinds at once, calm between. */
  async function faults(running: () => boolean) {
    while (running()) {
      const kinds = [pick(FAULT_KINDS), ...(random() < 0.4 ? [pick(FAULT_KINDS)] : [])].filter((kind, i, all) => all.indexOf(kind) === i);
      const from = Date.now();
      const windowMs = 1_000 + Math.floor(random() * 2_000);
      await Promise.all(kinds.map((kind) => inject(kind, windowMs)));
      for (const kind of kinds) {
        count(faultWindows, kind);
        history.record({ type: 'fault', kind, from, to: Date.now() });
      }
      await sleep(500 + Math.floor(random() * 1_000));
    }
  }

  async function inject(kind: FaultKind, windowMs: number) {
    const [target, fault] = kind.split(/-(.*)/s) as ['dynamodb' | 'sqs', ProxyFault];
    if (target === 'dynamodb' || target === 'sqs') {
      proxies[target]!.setFault(fault, 0.5);
      await sleep(windowMs);
      proxies[target]!.setFault(undefined);
    } else if (kind === 'trigger-stall') {
      // Two stalls a window, with a moment of polling between: a trigger that stops, starts and stops again.
      for (let stall = 0; stall < 2; stall++) {
        stack.pauseTriggers();
        count(injected, kind);
        await sleep(windowMs / 2);
        stack.resumeTriggers();
        if (stall === 0) await sleep(200);
      }
    } else if (kind === 'duplicate-delivery') {
      for (const taskId of [pick(accepted), pick(accepted)].filter(Boolean)) {
        await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ task_id: taskId }) }));
        count(injected, kind);
      }
      await sleep(windowMs);
    } else if (kind === 'killed-invocation') {
      // A worker that claimed a task and died: the claim is written, nothing follows it until the lease runs out.
      for (const taskId of accepted.slice(-30).filter(() => random() < 0.3)) {
        const claimed = await store.transition(taskId, { to: 'PROCESSING', at: new Date(), leaseExpiresAt: new Date(Date.now() + 30_000), maxAttempts: 3 });
        if (claimed.applied) count(injected, kind);
      }
      await sleep(windowMs);
    }
  }

  try {
    const until = Date.now() + options.seconds * 1000;
    const hardStop = Date.now() + 4 * options.seconds * 1000;
    const running = () => Date.now() < until || (submitsMade < (options.minSubmits ?? 0) && Date.now() < hardStop);
    log(`running ${options.clients} clients for ${options.seconds} s with faults...`);
    await Promise.all([faults(running), ...Array.from({ length: options.clients }, (_, id) => client(id, running))]);
    for (const proxy of Object.values(proxies)) proxy.setFault(undefined);
    stack.resumeTriggers();
    for (const [target, proxy] of Object.entries(proxies)) for (const [fault, n] of Object.entries(proxy.injected)) count(injected, `${target}-${fault}`, n);

    log(`faults stopped; draining ${accepted.length} accepted tasks...`);
    const drainStart = Date.now();
    let unfinished = accepted;
    while (unfinished.length > 0 && Date.now() - drainStart < DRAIN_BOUND_MS) {
      const statuses = await store.getStatuses(unfinished);
      unfinished = unfinished.filter((id) => ['PENDING', 'PROCESSING', undefined].includes(statuses.get(id)));
      if (unfinished.length > 0) await sleep(1_000);
    }
    // One more sweep period: a task the sweeper should never run would run now.
    await sleep(10_000);
    // Then the relay publishes what writers left unpublished, and the callbacks end.
    log('waiting for the relay and the callbacks...');
    const settleStart = Date.now();
    let finals = await readFinals();
    while (Date.now() - settleStart < SETTLE_BOUND_MS) {
      const unsettled = finals.filter((task) => task.callback_url && task.callback_state === 'PENDING' && ['COMPLETED', 'FAILED', 'CANCELED'].includes(task.status));
      const unpublished = await store.findUnpublished(new Date(Date.now() + 3_600_000), 1);
      if (unsettled.length === 0 && unpublished.length === 0) break;
      await sleep(2_000);
      finals = await readFinals();
    }

    for (const task of finals) history.record({ type: 'final', task });
    const ours = new Set(finals.map((task) => task.task_id));
    const { events: busEvents } = (await (await fetch(`${stack.emulatorEndpoints.events}/events`)).json()) as { events: ReceivedEvent[] };
    for (const { detail } of busEvents) {
      if (!ours.has(String(detail.task_id))) continue;
      history.record({ type: 'published', event_id: String(detail.event_id), task_id: String(detail.task_id), status: String(detail.status) });
    }
    for (const call of receiver.calls()) {
      const event = JSON.parse(call.body) as { event_id: string; task_id: string; status: string };
      const signed = { body: call.body, signature: String(call.headers['x-task-signature']), timestamp: String(call.headers['x-task-timestamp']) };
      // The calls are checked after the run: the timestamp's age is no concern here, only the signature.
      const signatureValid = verifyCallback(stack.env.CALLBACK_SIGNING_SECRET!, { ...signed, now: new Date(Number(signed.timestamp) * 1000) });
      history.record({ type: 'callback', task_id: event.task_id, event_id: event.event_id, status: event.status, signature_valid: signatureValid });
    }
    const violations = checkHistory(history.events, { faultSlackMs: FAULT_SLACK_MS, callbackMaxAttempts: CALLBACK_MAX_ATTEMPTS }).map((violation) => ({
      ...violation,
      history: violation.lines.map((line) => history.events[line]),
    }));
    const operations: Record<string, number> = {};
    const answers: Record<string, number> = {};
    for (const event of history.events) {
      if (event.type === 'invoke') count(operations, event.kind);
      if (event.type === 'answer') count(answers, String(event.status));
    }
    return {
      seed: options.seed,
      seconds: options.seconds,
      clients: options.clients,
      operations,
      answers,
      faultWindows,
      faultsInjected: injected,
      invariants: INVARIANTS,
      violations,
      unfinishedAfterDrain: unfinished.length,
    };
  } finally {
    clients.destroy();
    await stack.stop();
    await receiver.stop();
    await Promise.all(Object.values(proxies).map((proxy) => proxy.close()));
  }

  /** Every task this run created, read from the table itself (batches answered 503 included). */
  async function readFinals(): Promise<TaskState[]> {
    const tasks: TaskState[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await clients.dynamo.send(
        new ScanCommand({
          TableName: stack.env.TASKS_TABLE!,
          FilterExpression: 'begins_with(title, :run)',
          ExpressionAttributeValues: { ':run': run },
          ConsistentRead: true,
          ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        tasks.push({
          task_id: item.task_id,
          title: item.title,
          status: item.status,
          attempts: item.attempts,
          error: item.error ?? null,
          created_at: item.created_at,
          // When it became final (FAILED records no time of its own: its last update).
          completed_at: ['COMPLETED', 'FAILED', 'CANCELED'].includes(item.status) ? (item.completed_at ?? item.canceled_at ?? item.updated_at) : null,
          run_at: item.run_at ?? null,
          first_started_at: (item.attempt_log as Array<{ event: string; at: string }> | undefined)?.find((entry) => entry.event === 'started')?.at ?? item.started_at ?? null,
          callback_url: item.callback_url ?? null,
          callback_state: item.callback_url ? (item.callback_state ?? 'PENDING') : null,
          callback_attempts: (item.callback_log as unknown[] | undefined)?.length ?? 0,
        });
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return tasks;
  }
}
