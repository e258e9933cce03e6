import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskNotCancelableError } from '#lib/tasks/errors';
import { createTaskProcessor } from '#lib/tasks/processing';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, kindsRunning, silentLogger, type TaskWork } from '../support/fakes';
import { systemClock } from '#lib/clock';

/**
 * A cancel and a processor run race with random timings. Whatever the interleaving: a cancel
 * answered 200 means the task ends CANCELED, never COMPLETED; a cancel refused means it ended
 * COMPLETED; the message is always acknowledged.
 */
describe('cancel/complete races', () => {
  it('never completes a task whose cancel was answered 200 (1,000 random interleavings)', async () => {
    const store = new InMemoryTaskStore();
    const queue = new InMemoryTaskQueue();
    const service = createTaskService({ store, queue, clock: systemClock, logger: silentLogger });
    let workMs = 0;
    const work: TaskWork = async (_task, signal) => {
      await sleep(workMs, undefined, { signal });
      return { payload_bytes: 0 };
    };
    const processor = createTaskProcessor({
      store,
      queue,
      clock: systemClock,
      logger: silentLogger,
      kinds: kindsRunning(store, work),
      leaseSeconds: 30,
      cancelPollMs: 1,
      retryBaseDelaySeconds: 0,
      maxReceiveCount: 3,
    });

    const outcomes = { canceledWon: 0, completedWon: 0 };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 6 }), async (workDelay, cancelDelay) => {
        workMs = workDelay;
        const { task_id } = await service.submit({ title: 't', description: 'd', metadata: {} });
        const processing = processor.process({ body: JSON.stringify({ task_id }), receiptHandle: 'r', receiveCount: 1 });
        const cancel = sleep(cancelDelay).then(() =>
          service.cancel(task_id).then(
            () => 'accepted' as const,
            (error: unknown) => {
              if (error instanceof TaskNotCancelableError) return 'refused' as const;
              throw error;
            },
          ),
        );
        const [outcome, answer] = await Promise.all([processing, cancel]);
        const final = (await store.get(task_id))!;
        if (answer === 'accepted') {
          outcomes.canceledWon++;
          expect(final.status).toBe('CANCELED');
          expect(final.completed_at).toBeNull();
          expect(['canceled', 'already-final']).toContain(outcome);
        } else {
          outcomes.completedWon++;
          expect(final.status).toBe('COMPLETED');
          expect(outcome).toBe('completed');
        }
      }),
      { numRuns: 1_000, seed: 20261123 },
    );
    // Both sides must have won sometimes, or the property was never put to the test.
    expect(outcomes.canceledWon).toBeGreaterThan(50);
    expect(outcomes.completedWon).toBeGreaterThan(50);
  }, 60_000);
});
