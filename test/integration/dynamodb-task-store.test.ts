import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientLosingFirstAnswer } from '../support/lost-answer';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { newTask, TASK_STATUSES, type TaskStatus } from '#lib/tasks/model';
import type { StatusChange } from '#lib/tasks/ports';
import { canTransition } from '#lib/tasks/transitions';
import { stackEnv } from '../support/stack-env';
import { meterCapacity } from '../../local/consumed-capacity';
import { INLINE_JSON_BYTES } from '#lib/aws/task-item';

const { tableName } = stackEnv();
const client = createDocumentClient();
const store = new DynamoDbTaskStore(client, tableName);
const statusOf = async (taskId: string) => (await store.getStatuses([taskId])).get(taskId);

afterAll(() => client.destroy());

const at = (offsetMs = 0) => new Date(Date.UTC(2026, 10, 23, 9, 0, 0) + offsetMs);
const LEASE_MS = 30_000;

function change(to: TaskStatus, attempt = 1): StatusChange {
  switch (to) {
    case 'PROCESSING':
      return { to, at: at(1_000), leaseExpiresAt: at(1_000 + LEASE_MS), maxAttempts: 3 };
    case 'COMPLETED':
      return { to, at: at(2_000), attempt, result: { payload_bytes: 2 } };
    case 'CANCELED':
      return { to, at: at(2_000) };
    case 'FAILED':
      return { to, at: at(2_000), error: { code: 'PROCESSING_FAILED', message: 'boom' } };
    case 'PENDING':
      throw new Error('nothing moves a task back to PENDING');
  }
}

/** A stored task brought to `status` through allowed moves only. */
async function taskIn(status: TaskStatus): Promise<string> {
  const id = randomUUID();
  await store.create(newTask({ title: 't', description: 'd', metadata: { k: 'v' }, payload: [1] }, id, at()));
  const path: Record<TaskStatus, TaskStatus[]> = {
    PENDING: [],
    PROCESSING: ['PROCESSING'],
    COMPLETED: ['PROCESSING', 'COMPLETED'],
    FAILED: ['FAILED'],
    CANCELED: ['CANCELED'],
  };
  for (const step of path[status]) expect((await store.transition(id, change(step))).applied).toBe(true);
  return id;
}

describe('DynamoDbTaskStore against DynamoDB Local', () => {
  it('stores and reads back a task exactly, including JSON DynamoDB numbers cannot hold', async () => {
    const id = randomUUID();
    // Numbers past 2^53 and below DynamoDB's range, as a client's JSON would carry them.
    const payload = JSON.parse('{"big": 12345678901234567890, "tiny": 1e-300, "text": "héllo 🌍", "nested": [null, true, {}]}');
    const task = newTask({ title: 'T', description: 'D', metadata: { priority: 'high' }, payload }, id, at());
    await store.create(task);
    expect(await store.get(id)).toEqual(task);
    expect(await statusOf(id)).toBe('PENDING');
  });

  it('never overwrites an existing task', async () => {
    const id = await taskIn('COMPLETED');
    await expect(store.create(newTask({ title: 'x', description: 'y', metadata: {} }, id, at()))).rejects.toThrow();
    expect(await statusOf(id)).toBe('COMPLETED');
  });

  it('answers undefined for a task that does not exist', async () => {
    expect(await store.get(randomUUID())).toBeUndefined();
    expect(await statusOf(randomUUID())).toBeUndefined();
    expect(await store.transition(randomUUID(), change('CANCELED'))).toEqual({ applied: false });
  });

  const targets = TASK_STATUSES.filter((s) => s !== 'PENDING');
  const cases = TASK_STATUSES.flatMap((from) => targets.map((to) => [from, to] as const));

  it.each(cases)('from %s, a move to %s is applied exactly when the transition table allows it', async (from, to) => {
    const id = await taskIn(from);
    const outcome = await store.transition(id, change(to));
    expect(outcome.applied).toBe(canTransition(from, to));
    if (outcome.applied) {
      expect(outcome.task.status).toBe(to);
    } else {
      // The refusal carries the task as it stood, read by the same conditional write.
      expect(outcome.current?.status).toBe(from);
    }
    expect(await statusOf(id)).toBe(outcome.applied ? to : from);
  });

  it('records each move: attempts and started_at on claim, result on completion, error on failure', async () => {
    const id = await taskIn('PENDING');
    const claimed = await store.transition(id, change('PROCESSING'));
    expect(claimed).toMatchObject({ applied: true, task: { attempts: 1, started_at: at(1_000).toISOString() } });
    const completed = await store.transition(id, change('COMPLETED'));
    expect(completed).toMatchObject({
      applied: true,
      task: { status: 'COMPLETED', result: { payload_bytes: 2 }, completed_at: at(2_000).toISOString() },
    });
    const failed = await store.transition(await taskIn('PENDING'), change('FAILED'));
    expect(failed).toMatchObject({ applied: true, task: { error: { code: 'PROCESSING_FAILED', message: 'boom' } } });
  });

  it('keeps every attempt in the writes that already happen: a failed one released, one abandoned, the one that completed', async () => {
    const id = await taskIn('PENDING');
    const boom = { code: 'PROCESSING_FAILED', message: 'boom' };
    const claim = (second: number) => store.transition(id, { to: 'PROCESSING', at: at(second * 1_000), leaseExpiresAt: at(second * 1_000 + LEASE_MS), maxAttempts: 5 });
    await claim(1);
    await store.releaseLease(id, 1, at(2_000), boom);
    await claim(3);
    // Attempt 2 never reports: its lease runs out and attempt 3 takes the task over.
    await claim(3 + LEASE_MS / 1_000 + 1);
    const history = [
      { attempt: 1, started_at: at(1_000).toISOString(), ended_at: at(2_000).toISOString(), outcome: 'FAILED', error: boom },
      { attempt: 2, started_at: at(3_000).toISOString(), ended_at: null, outcome: 'ABANDONED', error: null },
      { attempt: 3, started_at: at(4_000 + LEASE_MS).toISOString(), ended_at: null, outcome: 'RUNNING', error: null },
    ];
    expect((await store.get(id))?.attempt_history).toEqual(history);
    // A refused end (attempt 2 is not the holder) records nothing.
    expect((await store.transition(id, { to: 'COMPLETED', at: at(5_000 + LEASE_MS), attempt: 2, result: null })).applied).toBe(false);
    const completed = await store.transition(id, { to: 'COMPLETED', at: at(6_000 + LEASE_MS), attempt: 3, result: null });
    expect(completed).toMatchObject({ applied: true, task: { attempt_history: [history[0], history[1], { ...history[2], ended_at: at(6_000 + LEASE_MS).toISOString(), outcome: 'COMPLETED' }] } });
    expect((await store.get(id))?.attempt_history).toEqual(completed.applied && completed.task.attempt_history);
  });

  it('records a last attempt that failed for good, and keeps the submit’s trace id', async () => {
    const id = randomUUID();
    const traceId = 'ab'.repeat(16);
    await store.create(newTask({ title: 't', description: 'd', metadata: {} }, id, at(), traceId));
    await store.transition(id, change('PROCESSING'));
    await store.transition(id, { to: 'FAILED', at: at(2_000), attempt: 1, error: { code: 'INVALID_PAYLOAD', message: 'no' } });
    expect(await store.get(id)).toMatchObject({
      trace_id: traceId,
      attempt_history: [{ attempt: 1, ended_at: at(2_000).toISOString(), outcome: 'FAILED', error: { code: 'INVALID_PAYLOAD', message: 'no' } }],
    });
  });

  it('lets a claim take over a PROCESSING task only once its lease has run out', async () => {
    const id = await taskIn('PROCESSING');
    const early = await store.transition(id, { to: 'PROCESSING', at: at(2_000), leaseExpiresAt: at(60_000), maxAttempts: 3 });
    expect(early).toMatchObject({ applied: false, current: { status: 'PROCESSING' }, leaseExpiresAt: at(1_000 + LEASE_MS) });
    const late = await store.transition(id, { to: 'PROCESSING', at: at(2_000 + LEASE_MS), leaseExpiresAt: at(90_000), maxAttempts: 3 });
    expect(late).toMatchObject({ applied: true, task: { attempts: 2 } });
    // The first worker's completion is now refused; the current attempt's is applied.
    expect((await store.transition(id, change('COMPLETED', 1))).applied).toBe(false);
    expect((await store.transition(id, change('COMPLETED', 2))).applied).toBe(true);
  });

  it('refuses a claim once the task has had its maxAttempts attempts, even with its lease run out', async () => {
    const id = await taskIn('PROCESSING');
    const second = await store.transition(id, { to: 'PROCESSING', at: at(2_000 + LEASE_MS), leaseExpiresAt: at(3_000 + LEASE_MS), maxAttempts: 2 });
    expect(second).toMatchObject({ applied: true, task: { attempts: 2 } });
    const third = await store.transition(id, { to: 'PROCESSING', at: at(4_000 + 2 * LEASE_MS), leaseExpiresAt: at(5_000 + 2 * LEASE_MS), maxAttempts: 2 });
    expect(third).toMatchObject({ applied: false, current: { status: 'PROCESSING', attempts: 2 } });
  });

  it('takes a write the SDK retried after its answer was lost as applied, not as refused by its own first attempt', async () => {
    const { client: base, answers } = clientLosingFirstAnswer();
    const flaky = new DynamoDbTaskStore(DynamoDBDocumentClient.from(base), tableName);
    const id = await taskIn('PENDING');
    const claimed = await flaky.transition(id, change('PROCESSING'));
    expect(answers()).toBe(2);
    expect(claimed).toMatchObject({ applied: true, task: { status: 'PROCESSING', attempts: 1 } });
    base.destroy();
  });

  it('keeps the first verdict of a batch: a commit after an abort answers ABORTED, and the other way round', async () => {
    const aborted = randomUUID();
    expect(await store.batchVerdict(aborted)).toBeUndefined();
    expect(await store.settleBatch(aborted, 'ABORTED')).toBe('ABORTED');
    expect(await store.settleBatch(aborted, 'COMMITTED')).toBe('ABORTED');
    const committed = randomUUID();
    expect(await store.settleBatch(committed, 'COMMITTED')).toBe('COMMITTED');
    expect(await store.settleBatch(committed, 'ABORTED')).toBe('COMMITTED');
    expect(await store.batchVerdict(committed)).toBe('COMMITTED');
  });

  it('requeues a task of a batch with its batch', async () => {
    const id = randomUUID();
    const batch = { id: randomUUID(), commit_by: at(5_000).toISOString() };
    await store.createMany([newTask({ title: 't', description: 'd', metadata: {} }, id, at(0))], batch);
    expect(await store.markRequeued(id, at(600_000), at(300_000))).toEqual({ task_id: id, kind: 'simulated', batch });
    expect(await store.markRequeued(id, at(600_001), at(300_000))).toBeUndefined();
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('reports an unreachable DynamoDB as unavailable, keeping the AWS error as the cause', async () => {
    const unreachable = new DynamoDbTaskStore(client, 'no-such-table');
    await expect(unreachable.get(randomUUID())).rejects.toMatchObject({
      name: 'DependencyUnavailableError',
      cause: expect.objectContaining({ name: 'ResourceNotFoundException' }),
    });
  });
});

describe('payloads and results of any size', () => {
  const metered = createDocumentClient();
  const capacity = meterCapacity(metered);
  const meteredStore = new DynamoDbTaskStore(metered, tableName);
  afterAll(() => metered.destroy());

  it.each([100, 4 * 1024, 16 * 1024, 64 * 1024])(
    'keeps a %d-byte payload and result whole, while each status write is billed 1 unit, as DynamoDB reports it',
    async (bytes) => {
      const id = randomUUID();
      const payload = { data: 'p'.repeat(bytes) };
      const result = { data: 'r'.repeat(bytes) };
      await meteredStore.create(newTask({ title: 'sized', description: 'd', metadata: {}, payload }, id, at()));
      capacity.clear();
      const claim = await meteredStore.transition(id, change('PROCESSING'));
      expect(claim.applied && claim.task.payload).toEqual(payload);
      const done = await meteredStore.transition(id, { to: 'COMPLETED', at: at(2_000), attempt: 1, result });
      expect(done.applied && done.task.result).toEqual(result);
      // The two status writes: 1 write unit of the table each, whatever the payload's and the result's size.
      expect(capacity.get('UpdateItemCommand')!.map(({ table }) => table)).toEqual([1, 1]);
      expect(await store.get(id)).toMatchObject({ status: 'COMPLETED', payload, result });
    },
  );

  it('keeps a small payload and result inline: no item of their own, no extra read', async () => {
    const id = randomUUID();
    await meteredStore.create(newTask({ title: 'small', description: 'd', metadata: {}, payload: { n: 1 } }, id, at()));
    await meteredStore.transition(id, change('PROCESSING'));
    await meteredStore.transition(id, { to: 'COMPLETED', at: at(2_000), attempt: 1, result: 'x'.repeat(INLINE_JSON_BYTES - 10) });
    capacity.clear();
    expect(await meteredStore.get(id)).toMatchObject({ payload: { n: 1 }, result: 'x'.repeat(INLINE_JSON_BYTES - 10) });
    expect([...capacity.keys()]).toEqual(['GetItemCommand']);
  });

  it('never answers a result of an attempt whose completion was refused', async () => {
    const id = randomUUID();
    await store.create(newTask({ title: 'late', description: 'd', metadata: {}, payload: 'p'.repeat(2_000) }, id, at()));
    await store.transition(id, change('PROCESSING'));
    const kept = { winner: 'w'.repeat(2_000) };
    expect((await store.transition(id, { to: 'COMPLETED', at: at(2_000), attempt: 1, result: kept })).applied).toBe(true);
    // A stale attempt's completion: its result item is written, its status write refused.
    expect((await store.transition(id, { to: 'COMPLETED', at: at(3_000), attempt: 0, result: { late: 'l'.repeat(2_000) } })).applied).toBe(false);
    expect((await store.get(id))!.result).toEqual(kept);
  });
});

describe('retention', () => {
  const retained = new DynamoDbTaskStore(client, tableName, { retentionDays: 7 });
  const raw = async (key: string) => (await client.send(new GetCommand({ TableName: tableName, Key: { task_id: key } }))).Item;
  const DAY = 24 * 60 * 60;

  it.each(['COMPLETED', 'FAILED', 'CANCELED'] as const)('sets the TTL TASK_RETENTION_DAYS after a move to %s, with that move\'s own write', async (status) => {
    const id = randomUUID();
    await retained.create(newTask({ title: 't', description: 'd', metadata: {} }, id, at()));
    if (status !== 'CANCELED') await retained.transition(id, change('PROCESSING'));
    expect((await raw(id))!.expires_at).toBeUndefined();
    await retained.transition(id, change(status));
    expect((await raw(id))!.expires_at).toBe(Math.ceil(at(2_000).getTime() / 1000) + 7 * DAY);
  });

  it('gives a payload kept apart a TTL past its task\'s, set when it is written', async () => {
    const id = randomUUID();
    const created = new Date();
    await retained.create(newTask({ title: 't', description: 'd', metadata: {}, payload: 'p'.repeat(1_000) }, id, created));
    expect((await raw(`payload#${id}`))!.expires_at).toBe(Math.ceil(created.getTime() / 1000) + (7 + 14) * DAY);
  });
});
