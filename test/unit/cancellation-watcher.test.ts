import { CancellationWatcher } from '#lib/tasks/cancellation-watcher';
import { newTask } from '#lib/tasks/model';
import { InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('the cancellation watcher', () => {
  it('polls every watched task with one batched read per tick and aborts only the canceled ones', async () => {
    const store = new InMemoryTaskStore();
    const clock = new ManualClock();
    for (let n = 1; n <= 20; n++) await store.create(newTask({ title: 't', description: 'd', metadata: {} }, ID(n), clock.now()));
    const watcher = new CancellationWatcher(store, 5, silentLogger);
    const watches = Array.from({ length: 20 }, (_, i) => watcher.watch(ID(i + 1)));
    await store.transition(ID(7), { to: 'CANCELED', at: clock.now() });
    await new Promise((resolve) => watches[6]!.signal.addEventListener('abort', resolve));
    expect(watches.filter((w) => w.signal.aborted)).toHaveLength(1);
    // Each tick is one read for all twenty tasks.
    const ticks = store.calls.getStatuses;
    expect(ticks).toBeGreaterThan(0);
    watches.forEach((w) => w.stop());
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(store.calls.getStatuses).toBeLessThanOrEqual(ticks + 1);
  });
});
