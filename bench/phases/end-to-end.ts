import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EmbeddedStack } from '../../local/embedded-stack';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { percentiles } from '../stats';
import { emulatorClients } from '../../local/emulator-clients';
import { bucketPerSecond, log, perTask, post, sleep, type BenchSettings } from '../common';

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
export async function measureEndToEnd(stack: EmbeddedStack, { tasks: TASKS }: BenchSettings) {
  const clients = emulatorClients(stack);
  const { dynamo } = clients;
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
  clients.destroy();
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
