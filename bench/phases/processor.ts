import { randomUUID } from 'node:crypto';
import type { EmbeddedStack } from '../../local/embedded-stack';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask } from '#lib/tasks/model';
import { emulatorClients } from '../../local/emulator-clients';
import { log, type BenchSettings } from '../common';

/** 4. One batch of `size` tasks (10, the trigger's batch size, or up to 100 with a batching window) through the processor function: its wall time. */
export async function measureProcessorBatch(stack: EmbeddedStack, { workMs }: BenchSettings, size = 10) {
  const clients = emulatorClients(stack);
  const ids = Array.from({ length: size }, () => randomUUID());
  // Stored directly, with no message, so the trigger does not race the direct invocation.
  await new DynamoDbTaskStore(clients.dynamo, stack.env.TASKS_TABLE!).createMany(
    ids.map((id) => newTask({ title: `batch of ${size}`, description: 'd', metadata: {} }, id, new Date())),
  );
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
  const response = (await stack.invoke('processTasks', event)) as { batchItemFailures: unknown[] };
  const wallMs = performance.now() - started;
  clients.destroy();
  log(`processor: batch of ${size} × ${workMs} ms in ${(wallMs / 1000).toFixed(2)} s (${response.batchItemFailures.length} failures)`);
  return { size, wallSeconds: wallMs / 1000, failures: response.batchItemFailures.length };
}
