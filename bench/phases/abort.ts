import { randomUUID } from 'node:crypto';
import type { EmbeddedStack } from '../../local/embedded-stack';
import { emulatorClients } from '../../local/emulator-clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { SqsTaskQueue } from '#lib/aws/sqs-task-queue';
import { systemClock } from '#lib/clock';
import { ConfigSchema } from '#lib/config';
import { createKindRegistry, defineTaskKind, DEFAULT_KIND } from '#lib/tasks/kind';
import { JsonValueSchema, newTask } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { z } from 'zod';
import { log, quietLogger } from '../common';
import { percentiles } from '../stats';

const TASKS = 30;
/** The measured kind's timeout: long enough that every task has started before the first one ends. */
const TIMEOUT_SECONDS = 2;

/**
 * 7. How soon work stops: from a cancel's write to the work's signal aborting (the processor's
 * cancel watcher polls every CANCEL_POLL_MS), and from a kind's timeout to the abort. The service's
 * own processor and store run here against the stack's DynamoDB, with a kind that only waits for
 * its signal and notes when it fires.
 */
export async function measureAbort(stack: EmbeddedStack) {
  const clients = emulatorClients(stack);
  const store = new DynamoDbTaskStore(clients.dynamo, stack.env.TASKS_TABLE!);
  const abortedAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const waiter = (timeoutSeconds: number) => defineTaskKind({
    name: DEFAULT_KIND,
    description: 'waits for its signal',
    payload: JsonValueSchema.optional(),
    result: z.unknown(),
    timeoutSeconds,
    attempts: 1,
    run: (_payload, { taskId, signal }) =>
      new Promise((_, reject) => {
        startedAt.set(taskId, performance.now());
        signal.addEventListener('abort', () => {
          abortedAt.set(taskId, performance.now());
          reject(signal.reason);
        });
      }),
  });
  const cancelPollMs = ConfigSchema.shape.CANCEL_POLL_MS.parse(process.env.CANCEL_POLL_MS);
  const processorWith = (timeoutSeconds: number) => createTaskProcessor({
    store,
    queue: new SqsTaskQueue(clients.sqs, stack.env.TASKS_QUEUE_URL!),
    clock: systemClock,
    logger: quietLogger,
    kinds: createKindRegistry([waiter(timeoutSeconds)]),
    leaseSeconds: 60,
    cancelPollMs,
    retryBaseDelaySeconds: 1,
    maxReceiveCount: 3,
  });
  const run = (processor: ReturnType<typeof createTaskProcessor>) => (id: string) => processor.process({ body: JSON.stringify({ task_id: id }), receiptHandle: 'bench', receiveCount: 1 }).catch(() => undefined);
  const store30 = async () => {
    const ids = Array.from({ length: TASKS }, () => randomUUID());
    await store.createMany(ids.map((id) => newTask({ title: 'abort', description: 'bench', metadata: {} }, id, new Date())));
    return ids;
  };
  try {
    // Cancels: each task canceled while it works, at a moment spread over the poll interval.
    const canceled = await store30();
    // A timeout far beyond the cancels: every abort here is a cancel's.
    const cancelRuns = canceled.map(run(processorWith(60)));
    while (canceled.some((id) => !startedAt.has(id))) await new Promise((resolve) => setTimeout(resolve, 10));
    const canceledAt = new Map<string, number>();
    for (const id of canceled) {
      await new Promise((resolve) => setTimeout(resolve, cancelPollMs / canceled.length));
      const outcome = await store.transition(id, { to: 'CANCELED', at: new Date() });
      if (!outcome.applied) throw new Error(`abort: the cancel of ${id} was refused`);
      canceledAt.set(id, performance.now());
    }
    await Promise.all(cancelRuns);
    const cancelLatencies = canceled.map((id) => abortedAt.get(id)! - canceledAt.get(id)!);

    // Timeouts: how long after its timeout each task's signal fired.
    const timed = await store30();
    await Promise.all(timed.map(run(processorWith(TIMEOUT_SECONDS))));
    const timeoutLatencies = timed.map((id) => abortedAt.get(id)! - startedAt.get(id)! - TIMEOUT_SECONDS * 1000);
    const result = { cancelPollMs, cancelToAbortMs: percentiles(cancelLatencies), timeoutToAbortMs: percentiles(timeoutLatencies) };
    log(
      `abort: cancel → work aborted p50 ${result.cancelToAbortMs.p50.toFixed(0)} ms, p99 ${result.cancelToAbortMs.p99.toFixed(0)} ms (CANCEL_POLL_MS ${cancelPollMs}); ` +
        `timeout → work aborted p50 ${result.timeoutToAbortMs.p50.toFixed(0)} ms, p99 ${result.timeoutToAbortMs.p99.toFixed(0)} ms`,
    );
    return result;
  } finally {
    clients.destroy();
  }
}
