import { randomUUID } from 'node:crypto';
import type { EmbeddedStack } from '../../local/embedded-stack';
import { meterCapacity, type CapacityByCommand } from '../../local/consumed-capacity';
import { emulatorClients } from '../../local/emulator-clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { SqsTaskQueue } from '#lib/aws/sqs-task-queue';
import { systemClock } from '#lib/clock';
import { createKindRegistry, defineTaskKind, DEFAULT_KIND } from '#lib/tasks/kind';
import { JsonValueSchema, newTask } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { z } from 'zod';
import { PRICES } from '../cost';
import { log, quietLogger } from '../common';

/** The payload sizes measured, in KB; each task's result is as large as its payload. */
export const CAPACITY_SIZES_KB = [0.1, 4, 16, 64];
const TASKS_PER_SIZE = 20;

/** Units per task of one size: the status writes' largest, and the totals by command, table and indexes apart. */
export interface CapacityAtSize {
  payloadKb: number;
  /** The most any one status write (claim, completion) consumed of the table. */
  statusWriteUnitsMax: number;
  writeUnitsPerTask: { table: number; indexes: number };
  readUnitsPerTask: number;
  byCommand: Record<string, { calls: number; tableUnits: number; indexUnits: number }>;
  /** DynamoDB's share of a million tasks at this size: the units above at on-demand prices. */
  dynamoDbCostPerMillion: number;
}

const READ_COMMANDS = /^(Get|BatchGet|Query|Scan)/;

function summarize(payloadKb: number, capacity: CapacityByCommand, tasks: number, statusWrites: number[]): CapacityAtSize {
  const byCommand: CapacityAtSize['byCommand'] = {};
  let writes = { table: 0, indexes: 0 };
  let reads = 0;
  for (const [command, calls] of capacity) {
    const tableUnits = calls.reduce((sum, call) => sum + call.table, 0);
    const indexUnits = calls.reduce((sum, call) => sum + call.indexes, 0);
    byCommand[command] = { calls: calls.length, tableUnits, indexUnits };
    if (READ_COMMANDS.test(command)) reads += tableUnits + indexUnits;
    else writes = { table: writes.table + tableUnits, indexes: writes.indexes + indexUnits };
  }
  const perTask = { table: writes.table / tasks, indexes: writes.indexes / tasks };
  return {
    payloadKb,
    statusWriteUnitsMax: Math.max(...statusWrites),
    writeUnitsPerTask: perTask,
    readUnitsPerTask: reads / tasks,
    byCommand,
    dynamoDbCostPerMillion: (perTask.table + perTask.indexes) * PRICES.dynamoDbPerMillionWriteUnits + (reads / tasks) * PRICES.dynamoDbPerMillionReadUnits,
  };
}

/**
 * 6. What DynamoDB bills a task, as it reports it (`ReturnConsumedCapacity`), at payloads (and
 * results) of each size: the task stored, claimed and completed by the service's own store and
 * processor, against the stack's DynamoDB, with a kind that answers its payload back at once.
 */
export async function measureCapacity(stack: EmbeddedStack): Promise<CapacityAtSize[]> {
  const clients = emulatorClients(stack);
  const capacity = meterCapacity(clients.dynamo);
  const store = new DynamoDbTaskStore(clients.dynamo, stack.env.TASKS_TABLE!);
  const echo = defineTaskKind({ name: DEFAULT_KIND, description: 'answers its payload', payload: JsonValueSchema.optional(), result: z.unknown(), timeoutSeconds: 10, run: async (payload) => payload });
  const processor = createTaskProcessor({
    store,
    // Never sent to: the tasks are stored directly and processed from messages made here.
    queue: new SqsTaskQueue(clients.sqs, stack.env.TASKS_QUEUE_URL!),
    clock: systemClock,
    logger: quietLogger,
    kinds: createKindRegistry([echo]),
    leaseSeconds: 60,
    cancelPollMs: 60_000,
    retryBaseDelaySeconds: 1,
    maxReceiveCount: 3,
  });
  const results: CapacityAtSize[] = [];
  try {
    for (const payloadKb of CAPACITY_SIZES_KB) {
      // The result echoes the payload: a result as large as it (under the 100 KiB a task keeps).
      const payload = { data: 'x'.repeat(Math.round(payloadKb * 1024) - 11) };
      capacity.clear();
      const ids = Array.from({ length: TASKS_PER_SIZE }, () => randomUUID());
      for (const id of ids) await store.create(newTask({ title: `capacity ${payloadKb} KB`, description: 'bench', metadata: {}, payload }, id, new Date()));
      for (const id of ids) {
        const outcome = await processor.process({ body: JSON.stringify({ task_id: id }), receiptHandle: 'bench', receiveCount: 1 });
        if (outcome !== 'completed') throw new Error(`capacity: task ${id} ended ${outcome}`);
      }
      const statusWrites = (capacity.get('UpdateItemCommand') ?? []).map((call) => call.table);
      const result = summarize(payloadKb, capacity, ids.length, statusWrites);
      log(
        `capacity at ${payloadKb} KB: status writes ≤ ${result.statusWriteUnitsMax} unit(s) each; per task ${result.writeUnitsPerTask.table.toFixed(2)} table + ` +
          `${result.writeUnitsPerTask.indexes.toFixed(2)} index write units, ${result.readUnitsPerTask.toFixed(2)} read units; DynamoDB $${result.dynamoDbCostPerMillion.toFixed(2)} per million`,
      );
      results.push(result);
    }
  } finally {
    clients.destroy();
  }
  return results;
}
