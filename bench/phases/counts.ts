import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { EmbeddedStack } from '../../local/embedded-stack';
import { meterCapacity } from '../../local/consumed-capacity';
import { emulatorClients } from '../../local/emulator-clients';
import { createTableLike } from '../../local/resources';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask, TASK_STATUSES, type StatusCounts, type Task } from '#lib/tasks/model';
import { PRICES } from '../cost';
import { log } from '../common';

export const COUNTED_TASKS = 100_000;

export interface CountsResult {
  tasks: number;
  expected: StatusCounts;
  counted: StatusCounts;
  exact: boolean;
  /** One count of the whole table: wall time, and the read units DynamoDB reported for its queries. */
  seconds: number;
  readUnits: number;
  queries: number;
  costPerCount: number;
}

/**
 * 8. GET /api/stats's count (countByStatus) against a table of 100,000 tasks spread over every
 * status, in a copy of the tasks table (same keys and status index), loaded with the store's own
 * batched writes: whether the count is exact, how long it takes and what DynamoDB bills it.
 */
export async function measureCounts(stack: EmbeddedStack, tasks = COUNTED_TASKS): Promise<CountsResult> {
  const clients = emulatorClients(stack, 64);
  const table = await createTableLike(clients.dynamo, stack.env.TASKS_TABLE!, `bench-counts-${Date.now()}`);
  try {
    const store = new DynamoDbTaskStore(clients.dynamo, table);
    const expected = Object.fromEntries(TASK_STATUSES.map((status) => [status, 0])) as StatusCounts;
    const at = new Date();
    const all: Task[] = Array.from({ length: tasks }, (_, n) => {
      // Statuses in the proportions of a busy day: most tasks done, a backlog, a few failures.
      const status = TASK_STATUSES[[0, 0, 1, 2, 2, 2, 2, 2, 3, 4][n % 10]!]!;
      expected[status] += 1;
      return { ...newTask({ title: `count ${n}`, description: 'bench', metadata: {} }, randomUUID(), at), status };
    });
    const loadStarted = performance.now();
    for (let start = 0; start < all.length; start += 1_000) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.createMany(all.slice(start + i * 100, start + (i + 1) * 100))));
    }
    log(`counts: ${tasks} tasks loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

    const capacity = meterCapacity(clients.dynamo);
    const started = performance.now();
    const counted = await store.countByStatus();
    const seconds = (performance.now() - started) / 1000;
    const queries = capacity.get('QueryCommand') ?? [];
    const readUnits = queries.reduce((sum, call) => sum + call.table + call.indexes, 0);
    const exact = TASK_STATUSES.every((status) => counted[status] === expected[status]);
    const costPerCount = (readUnits * PRICES.dynamoDbPerMillionReadUnits) / 1_000_000;
    log(`counts: ${exact ? 'exact' : 'WRONG'} (${JSON.stringify(counted)}) in ${seconds.toFixed(2)} s, ${queries.length} queries, ${readUnits.toFixed(1)} read units ($${costPerCount.toFixed(6)} per count)`);
    return { tasks, expected, counted, exact, seconds, readUnits, queries: queries.length, costPerCount };
  } finally {
    await clients.dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    clients.destroy();
  }
}
