import { createHandler } from '#functions/submit';
import { createTaskService, fingerprintOf } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';
import { jsonPost, lambdaContext } from '../support/events';

const body = { title: 'Resize image', description: 'Make a 200px thumbnail', metadata: { a: 1, b: 2 } };

function setup() {
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskQueue();
  const clock = new ManualClock();
  const submit = createHandler(createTaskService({ store, queue, clock, logger: silentLogger }));
  const post = async (payload: unknown, key?: string) => {
    const result = await submit(jsonPost(payload, key === undefined ? {} : { headers: { 'Idempotency-Key': key } }), lambdaContext());
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };
  return { store, queue, clock, post };
}

describe('Idempotency-Key on POST /api/tasks', () => {
  it('answers a retry with the same task and creates nothing new', async () => {
    const { post, store, queue } = setup();
    const first = await post(body, 'order-42');
    const again = await post({ ...body, title: '  Resize image ', metadata: { b: 2, a: 1 } }, 'order-42');
    expect(first.status).toBe(202);
    expect(again).toEqual({ status: 202, body: first.body });
    expect(store.items.size).toBe(1);
    expect(queue.messages).toHaveLength(1);
  });

  it('answers 409 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    const { post, store } = setup();
    await post(body, 'order-43');
    const reused = await post({ ...body, title: 'Another' }, 'order-43');
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(store.items.size).toBe(1);
  });

  it('lets a key create a new task once its 24 hours are over', async () => {
    const { post, clock } = setup();
    const first = await post(body, 'order-44');
    clock.advance(24 * 3_600_000 + 1_000);
    const later = await post(body, 'order-44');
    expect(later.status).toBe(202);
    expect(later.body.task_id).not.toBe(first.body.task_id);
  });

  it('frees the key when the enqueue fails, so the retry creates the task', async () => {
    const { post, queue, store } = setup();
    queue.down = true;
    expect((await post(body, 'order-45')).status).toBe(503);
    queue.down = false;
    const retry = await post(body, 'order-45');
    expect(retry.status).toBe(202);
    expect(store.items.get(retry.body.task_id)!.task.status).toBe('PENDING');
    expect(queue.messages).toEqual([{ task_id: retry.body.task_id, kind: 'simulated' }]);
  });

  it.each([['', 'empty'], ['x'.repeat(129), 'too long'], ['caf\u00e9', 'not ASCII'], ['   ', 'blank'], ['a\tb', 'a control character']])(
    'refuses a key that is %j (%s) with 400',
    async (key) => {
      const { post, store } = setup();
      const refused = await post(body, key);
      expect(refused.status).toBe(400);
      expect(refused.body.error.details[0].path).toBe('headers.idempotency-key');
      expect(store.items.size).toBe(0);
    },
  );

  it('fingerprints the validated body, not its spelling', () => {
    const input = { title: 't', description: 'd', metadata: { x: [1, { b: 1, a: 2 }] } };
    expect(fingerprintOf(input)).toBe(fingerprintOf({ description: 'd', metadata: { x: [1, { a: 2, b: 1 }] }, title: 't' }));
    expect(fingerprintOf(input)).not.toBe(fingerprintOf({ ...input, payload: null }));
  });
});
