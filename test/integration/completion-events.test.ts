import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientLosingFirstAnswer } from '../support/lost-answer';
import { createDocumentClient } from '#lib/aws/clients';
import { DynamoDbTaskStore } from '#lib/aws/dynamodb-task-store';
import { createCompletionNotifier, type CompletionEvent } from '#lib/tasks/completion-events';
import { newTask } from '#lib/tasks/model';
import { systemClock } from '#lib/clock';
import { ownTaskStore } from '../support/own-table';
import { stackEnv } from '../support/stack-env';
import { silentLogger } from '../support/fakes';

const { tableName } = stackEnv();
const client = createDocumentClient();
afterAll(() => client.destroy());

const at = (offsetMs = 0) => new Date(Date.UTC(2026, 11, 1, 9, 0, 0) + offsetMs);

describe('the unpublished mark on DynamoDB Local', () => {
  const own = ownTaskStore(client, tableName, 'events');
  const seed = async (extra: { callback_url?: string } = {}) => {
    const id = randomUUID();
    await own.store.create(newTask({ title: 't', description: 'd', metadata: {}, ...extra }, id, at()));
    return id;
  };

  it('is set by each final write itself, with its time, never by a claim, and cleared once published', async () => {
    const claimed = await seed();
    const canceled = await seed();
    const failed = await seed();
    await own.store.transition(claimed, { to: 'PROCESSING', at: at(1_000), leaseExpiresAt: at(31_000), maxAttempts: 3 });
    await own.store.transition(canceled, { to: 'CANCELED', at: at(2_000) });
    await own.store.transition(failed, { to: 'FAILED', at: at(3_000), error: { code: 'X', message: 'x' } });
    // A refused move marks nothing and moves no mark.
    await own.store.transition(canceled, { to: 'FAILED', at: at(4_000), error: { code: 'X', message: 'x' } });
    expect(await own.store.findUnpublished(at(60_000), 10)).toEqual([
      { taskId: canceled, endedAt: at(2_000).toISOString() },
      { taskId: failed, endedAt: at(3_000).toISOString() },
    ]);
    // Only those marked before the bound, oldest first, at most the limit.
    expect(await own.store.findUnpublished(at(2_500), 10)).toEqual([{ taskId: canceled, endedAt: at(2_000).toISOString() }]);
    expect(await own.store.findUnpublished(at(60_000), 1)).toHaveLength(1);
    const missing = randomUUID();
    await own.store.markPublished([canceled, failed, missing]);
    expect(await own.store.findUnpublished(at(60_000), 10)).toEqual([]);
    // Clearing the mark of a task that is not there creates nothing.
    expect(await own.store.getSummaries([missing])).toEqual([]);
  });

  it('is cleared for any number of tasks at once, 25 to a call, and only the mark', async () => {
    const ids = await Promise.all(Array.from({ length: 60 }, () => seed()));
    await Promise.all(ids.map((id, n) => own.store.transition(id, { to: 'CANCELED', at: at(6_000 + n) })));
    expect(await own.store.findUnpublished(at(60_000), 100)).toHaveLength(60);
    await own.store.markPublished(ids);
    expect(await own.store.findUnpublished(at(60_000), 100)).toEqual([]);
    const summaries = await own.store.getSummaries(ids);
    expect(summaries.map((task) => [task.task_id, task.status]).sort()).toEqual(ids.map((id) => [id, 'CANCELED']).sort());
  });

  it('is what the relay publishes from, once', async () => {
    const id = await seed({ callback_url: 'https://hooks.example.com/t' });
    await own.store.transition(id, { to: 'CANCELED', at: at(5_000) });
    const published: CompletionEvent[] = [];
    const queued: unknown[] = [];
    const notifier = createCompletionNotifier({
      store: own.store,
      bus: { publish: async (events) => void published.push(...events) },
      callbacks: { enqueueAll: async (deliveries) => void queued.push(...deliveries) },
      clock: systemClock,
      logger: silentLogger,
      relayAfterSeconds: 60,
    });
    expect(await notifier.relayUnpublished()).toEqual({ published: 1 });
    expect(published).toEqual([expect.objectContaining({ event_id: `${id}:CANCELED`, ended_at: at(5_000).toISOString(), status: 'CANCELED' })]);
    expect(queued).toHaveLength(1);
    expect(await notifier.relayUnpublished()).toEqual({ published: 0 });
  });

  it('numbers each callback attempt as it begins, keeps how it ended, and takes none past the bound or after the end', async () => {
    const id = await seed({ callback_url: 'https://hooks.example.com/t' });
    const outcome = (n: number, status: number) => ({ attempt: n, at: at(n * 1_000).toISOString(), duration_ms: 12, status_code: status, error: status === 200 ? null : `answered ${status}` });
    expect(await own.store.beginCallbackAttempt(id, at(1_000), 3)).toBe(1);
    expect((await own.store.get(id))?.callback_attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: null, error: expect.stringMatching(/underway/) })]);
    await own.store.recordCallbackAttempt(id, outcome(1, 500));
    expect(await own.store.get(id)).toMatchObject({ callback_state: 'PENDING', callback_attempts: [outcome(1, 500)] });
    // Two deliveries at once each take an attempt of their own.
    expect((await Promise.all([own.store.beginCallbackAttempt(id, at(2_000), 3), own.store.beginCallbackAttempt(id, at(2_000), 3)])).sort()).toEqual([2, 3]);
    expect(await own.store.beginCallbackAttempt(id, at(3_000), 3)).toBeUndefined();
    await own.store.recordCallbackAttempt(id, outcome(3, 200), 'DELIVERED');
    const task = await own.store.get(id);
    expect(task).toMatchObject({ callback_url: 'https://hooks.example.com/t', callback_state: 'DELIVERED' });
    expect(task?.callback_attempts.map((attempt) => attempt.status_code)).toEqual([500, null, 200]);
    expect(await own.store.beginCallbackAttempt(id, at(4_000), 10)).toBeUndefined();
    expect((await own.store.getSummaries([id]))[0]).toMatchObject({ callback_state: 'DELIVERED' });
    expect((await own.store.getSummaries([id]))[0]).not.toHaveProperty('callback_attempts');
    const plain = await seed();
    expect(await own.store.beginCallbackAttempt(plain, at(1_000), 3)).toBeUndefined();
    expect(await own.store.get(plain)).toMatchObject({ callback_url: null, callback_state: null, callback_attempts: [] });
  });
  it('takes one attempt for a begin whose answer was lost and that the SDK sent again', async () => {
    const id = await seed({ callback_url: 'https://hooks.example.com/t' });
    const { client: base, answers } = clientLosingFirstAnswer();
    const flaky = new DynamoDbTaskStore(DynamoDBDocumentClient.from(base), own.tableName);
    expect(await flaky.beginCallbackAttempt(id, at(1_000), 3)).toBe(1);
    expect(answers()).toBe(2);
    expect((await own.store.get(id))?.callback_attempts).toHaveLength(1);
    base.destroy();
  });

  it('gives up on a callback whose attempts are all taken, and never on one that has ended', async () => {
    const id = await seed({ callback_url: 'https://hooks.example.com/t' });
    await own.store.beginCallbackAttempt(id, at(1_000), 1);
    await own.store.giveUpCallback(id);
    expect((await own.store.get(id))?.callback_state).toBe('GAVE_UP');
    const delivered = await seed({ callback_url: 'https://hooks.example.com/t' });
    await own.store.beginCallbackAttempt(delivered, at(1_000), 1);
    await own.store.recordCallbackAttempt(delivered, { attempt: 1, at: at(1_000).toISOString(), duration_ms: 3, status_code: 200, error: null }, 'DELIVERED');
    await own.store.giveUpCallback(delivered);
    expect((await own.store.get(delivered))?.callback_state).toBe('DELIVERED');
  });
});
