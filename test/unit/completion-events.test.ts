import { completionEventOf, createCompletionNotifier, withCompletionEvents, type CompletionEvent, type CallbackDelivery } from '#lib/tasks/completion-events';
import { newTask } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger, simulatedKinds } from '../support/fakes';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function setup() {
  const store = new InMemoryTaskStore();
  const clock = new ManualClock();
  const published: CompletionEvent[] = [];
  const deliveries: CallbackDelivery[] = [];
  /** How many events each call to the bus carried. */
  const calls: number[] = [];
  const bus = { down: false, publish: async (events: CompletionEvent[]) => {
    if (bus.down) throw new Error('EventBridge is unavailable');
    calls.push(events.length);
    published.push(...events);
  } };
  const notifier = createCompletionNotifier({
    store,
    bus,
    callbacks: { enqueueAll: async (sent) => void deliveries.push(...sent) },
    clock,
    logger: silentLogger,
    relayAfterSeconds: 60,
  });
  const notifying = withCompletionEvents(store, notifier);
  const seed = async (n: number, extra: { callback_url?: string } = {}) => {
    await store.create(newTask({ title: 't', description: 'd', metadata: {}, ...extra }, ID(n), clock.now()));
    return ID(n);
  };
  return { store, clock, bus, calls, published, deliveries, notifier, notifying, seed };
}

describe('completion events', () => {
  it('are published after each applied final move, with its callback queued, and never after a claim or a refused move', async () => {
    const { notifying, published, deliveries, seed, clock, store } = setup();
    const plain = await seed(1);
    const called = await seed(2, { callback_url: 'https://hooks.example.com/t' });
    const lease = { leaseExpiresAt: new Date(clock.now().getTime() + 30_000), maxAttempts: 3 };
    await notifying.transition(plain, { to: 'PROCESSING', at: clock.now(), ...lease });
    expect(published).toEqual([]);
    await notifying.transition(plain, { to: 'COMPLETED', at: clock.now(), attempt: 1, result: null });
    await notifying.transition(called, { to: 'CANCELED', at: clock.now() });
    // Refused: both are final already.
    await notifying.transition(plain, { to: 'CANCELED', at: clock.now() });
    await notifying.transition(called, { to: 'FAILED', at: clock.now(), error: { code: 'X', message: 'x' } });
    expect(published.map((event) => event.event_id)).toEqual([`${plain}:COMPLETED`, `${called}:CANCELED`]);
    expect(deliveries).toEqual([{ task_id: called, url: 'https://hooks.example.com/t', event: published[1] }]);
    // Both published: nothing is left for the relay.
    expect(await store.findUnpublished(new Date(clock.now().getTime() + 1), 10)).toEqual([]);
  });

  it('of tasks that end in the same turn of the event loop share one publish and one clearing of their marks; a later one has its own', async () => {
    const { notifying, calls, published, seed, clock, store } = setup();
    const ids = await Promise.all([7, 8, 9, 10].map((n) => seed(n)));
    const clearings = jest.spyOn(store, 'markPublished');
    const outcomes = await Promise.all(ids.slice(0, 3).map((id) => notifying.transition(id, { to: 'CANCELED', at: clock.now() })));
    expect(outcomes.every((outcome) => outcome.applied)).toBe(true);
    // Each caller's promise settled only once the shared publish had: its event is out when it returns.
    expect(calls).toEqual([3]);
    expect(clearings.mock.calls).toEqual([[ids.slice(0, 3)]]);
    await notifying.transition(ids[3]!, { to: 'CANCELED', at: clock.now() });
    expect(calls).toEqual([3, 1]);
    expect(published.map((event) => event.task_id)).toEqual(ids);
    expect(await store.findUnpublished(new Date(clock.now().getTime() + 1), 10)).toEqual([]);
  });

  it('of tasks that end while a publish is under way wait for it, then share the next one', async () => {
    const { notifying, bus, calls, seed, clock } = setup();
    const ids = await Promise.all([13, 14, 15, 16].map((n) => seed(n)));
    let release = () => {};
    let entered = () => {};
    const held = new Promise<void>((resolve) => (entered = resolve));
    const publish = bus.publish;
    bus.publish = async (events) => {
      if (calls.length === 0) {
        entered();
        await new Promise<void>((resolve) => (release = resolve));
      }
      return publish(events);
    };
    const first = notifying.transition(ids[0]!, { to: 'CANCELED', at: clock.now() });
    await held;
    // The first publish is held; three more tasks end meanwhile, in different turns.
    const rest: Array<Promise<unknown>> = [];
    for (const id of ids.slice(1)) {
      rest.push(notifying.transition(id, { to: 'CANCELED', at: clock.now() }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(calls).toEqual([]);
    release();
    await Promise.all([first, ...rest]);
    expect(calls).toEqual([1, 3]);
  });

  it('that fail to publish together stay marked, every one of them, for the relay', async () => {
    const { notifying, notifier, bus, published, seed, clock } = setup();
    const ids = await Promise.all([11, 12].map((n) => seed(n)));
    bus.down = true;
    await Promise.all(ids.map((id) => notifying.transition(id, { to: 'CANCELED', at: clock.now() })));
    bus.down = false;
    clock.advance(61_000);
    expect(await notifier.relayUnpublished()).toEqual({ published: 2 });
    expect(published.map((event) => event.task_id).sort()).toEqual([...ids].sort());
  });

  it('tell of a task without its payload or result, and only of a final status', () => {
    const task = { ...newTask({ title: 't', description: 'd', metadata: {}, payload: { secret: 1 } }, ID(3), new Date()), status: 'COMPLETED' as const, result: { big: 1 } };
    const event = completionEventOf(task, '2026-12-01T00:00:00.000Z');
    expect(JSON.stringify(event)).not.toMatch(/secret|big/);
    expect(event).toMatchObject({ type: 'task.completed', status: 'COMPLETED', ended_at: '2026-12-01T00:00:00.000Z' });
    expect(() => completionEventOf({ ...task, status: 'PROCESSING' }, '2026-12-01T00:00:00.000Z')).toThrow(/only a final status/);
  });

  it('keep the final write when the bus fails, and the relay publishes the event once the writer has had its time', async () => {
    const { notifying, notifier, published, bus, seed, clock } = setup();
    const id = await seed(4, { callback_url: 'https://hooks.example.com/t' });
    bus.down = true;
    const outcome = await notifying.transition(id, { to: 'CANCELED', at: clock.now() });
    expect(outcome.applied).toBe(true);
    bus.down = false;
    // Not before relayAfterSeconds: the writer may still be publishing.
    clock.advance(59_000);
    expect(await notifier.relayUnpublished()).toEqual({ published: 0 });
    clock.advance(2_000);
    expect(await notifier.relayUnpublished()).toEqual({ published: 1 });
    expect(published).toEqual([expect.objectContaining({ event_id: `${id}:CANCELED`, ended_at: outcome.applied ? outcome.task.canceled_at : '' })]);
    expect(await notifier.relayUnpublished()).toEqual({ published: 0 });
  });

  it('are published for the final moves of the processor and the dead-letter consumer', async () => {
    const { notifying, published, seed, clock, store } = setup();
    const processor = createTaskProcessor({
      store: notifying,
      queue: new InMemoryTaskQueue(),
      clock,
      logger: silentLogger,
      kinds: simulatedKinds(0, { simulation: true }),
      leaseSeconds: 30,
      cancelPollMs: 5,
      retryBaseDelaySeconds: 10,
      maxReceiveCount: 1,
    });
    const done = await seed(5);
    await store.create(newTask({ title: 't', description: 'd', metadata: {}, payload: { simulate: { fail_attempts: 1 } } }, ID(6), clock.now()));
    await processor.process({ body: JSON.stringify({ task_id: done }), receiptHandle: 'a', receiveCount: 1 });
    const failing = { body: JSON.stringify({ task_id: ID(6) }), receiptHandle: 'b', receiveCount: 1 };
    await expect(processor.process(failing)).rejects.toThrow();
    expect(published.map((event) => event.status)).toEqual(['COMPLETED']);
    // Its message ran out of receives: the dead-letter consumer fails the task (its released lease now behind it).
    clock.advance(1);
    await processor.failDeadLetter(failing);
    expect(published.map((event) => [event.task_id, event.status])).toEqual([[done, 'COMPLETED'], [ID(6), 'FAILED']]);
  });
});
