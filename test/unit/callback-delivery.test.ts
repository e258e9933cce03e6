import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { callbackRetryDelaySeconds, CallbackNotDeliveredError, createCallbackDeliverer, signCallback, verifyCallback } from '#lib/tasks/callback-delivery';
import { completionEventOf } from '#lib/tasks/completion-events';
import { newTask } from '#lib/tasks/model';
import type { CallbackResponse } from '#lib/tasks/ports';
import { guardedLookup, HttpCallbackSender } from '#lib/http/callback-sender';
import { parseCallbackPolicy } from '#lib/tasks/callback-policy';
import { InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';

const SECRET = 'a-secret-of-at-least-16';

describe('callback signatures', () => {
  const body = '{"task_id":"x"}';
  const now = new Date('2026-12-01T12:00:00Z');
  const timestamp = String(now.getTime() / 1000);
  const signature = signCallback(SECRET, Number(timestamp), body);

  it('is an HMAC-SHA256 of `<timestamp>.<body>`, hex, as v1=', () => {
    // printf '%s' '1796126400.{"task_id":"x"}' | openssl dgst -sha256 -hmac a-secret-of-at-least-16: what a receiver computes.
    expect(signature).toBe('v1=b8e164a3f7b022cc98319f2b7e850d6084c876775d6a63122707fa67d9e0dccc');
    expect(verifyCallback(SECRET, { body, signature, timestamp, now })).toBe(true);
  });

  it('fails for another body, secret or timestamp, and for a timestamp older than the tolerance', () => {
    expect(verifyCallback(SECRET, { body: '{"task_id":"y"}', signature, timestamp, now })).toBe(false);
    expect(verifyCallback('another-secret-16-chars', { body, signature, timestamp, now })).toBe(false);
    expect(verifyCallback(SECRET, { body, signature, timestamp: String(Number(timestamp) + 1), now })).toBe(false);
    expect(verifyCallback(SECRET, { body, signature, timestamp, now: new Date(now.getTime() + 301_000) })).toBe(false);
    expect(verifyCallback(SECRET, { body, signature: 'v1=00', timestamp, now })).toBe(false);
    expect(verifyCallback(SECRET, { body, signature, timestamp: 'soon', now })).toBe(false);
  });

  it('backs off by doubling, at most the 12 hours SQS can hide a message', () => {
    expect([1, 2, 3, 8].map((attempt) => callbackRetryDelaySeconds(attempt, 30))).toEqual([30, 60, 120, 3_840]);
    expect(callbackRetryDelaySeconds(20, 30)).toBe(43_200);
  });
});

describe('the callback deliverer', () => {
  const clock = new ManualClock(new Date('2026-12-01T12:00:00Z'));
  const setup = (answers: CallbackResponse[]) => {
    const store = new InMemoryTaskStore();
    const posts: Array<{ url: string; body: string; headers: Record<string, string> }> = [];
    const retries: number[] = [];
    const deliver = createCallbackDeliverer({
      store,
      sender: { post: async (url, body, headers) => (posts.push({ url, body, headers }), answers.shift()!) },
      queue: { retryAfter: async (_handle, delay) => void retries.push(delay) },
      clock,
      logger: silentLogger,
      secret: async () => SECRET,
      maxAttempts: 3,
      retryBaseDelaySeconds: 5,
    });
    return { store, posts, retries, deliver };
  };
  const ended = async (store: InMemoryTaskStore) => {
    const task = newTask({ title: 't', description: 'd', metadata: {}, callback_url: 'https://hooks.example.com/t' }, '6f1f0e3e-27b4-4f47-9d0a-43c1a1f1e0a1', clock.now());
    await store.create(task);
    const done = await store.transition(task.task_id, { to: 'CANCELED', at: clock.now() });
    if (!done.applied) throw new Error('not canceled');
    const event = completionEventOf(done.task, clock.now().toISOString());
    return { task, message: (receiveCount: number) => ({ body: JSON.stringify({ task_id: task.task_id, url: task.callback_url, event }), receiptHandle: 'r', receiveCount }), event };
  };

  it('signs the event it POSTs and records a 2xx as DELIVERED', async () => {
    const { store, posts, deliver } = setup([{ statusCode: 204 }]);
    const { task, message, event } = await ended(store);
    await deliver(message(1));
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body)).toEqual(event);
    const { headers } = posts[0]!;
    expect(headers['x-task-event-id']).toBe(`${task.task_id}:CANCELED`);
    expect(verifyCallback(SECRET, { body: posts[0]!.body, signature: headers['x-task-signature']!, timestamp: headers['x-task-timestamp']!, now: clock.now() })).toBe(true);
    expect(await store.get(task.task_id)).toMatchObject({ callback_state: 'DELIVERED', callback_attempts: [{ attempt: 1, status_code: 204, error: null }] });
  });

  it('records a failed attempt, hides the delivery for its backoff and fails the record, until the last attempt gives up', async () => {
    const { store, retries, deliver } = setup([{ statusCode: 500 }, { error: 'no answer: timeout', refused: false }, { statusCode: 503 }]);
    const { task, message } = await ended(store);
    await expect(deliver(message(1))).rejects.toBeInstanceOf(CallbackNotDeliveredError);
    await expect(deliver(message(2))).rejects.toBeInstanceOf(CallbackNotDeliveredError);
    expect((await store.get(task.task_id))?.callback_state).toBe('PENDING');
    await deliver(message(3));
    expect(retries).toEqual([5, 10]);
    const stored = await store.get(task.task_id);
    expect(stored?.callback_state).toBe('GAVE_UP');
    expect(stored?.callback_attempts.map((attempt) => [attempt.attempt, attempt.status_code, attempt.error])).toEqual([
      [1, 500, 'answered 500'],
      [2, null, 'no answer: timeout'],
      [3, 503, 'answered 503'],
    ]);
  });

  it('gives up at once on an address the policy refuses: another try would be refused the same', async () => {
    const { store, retries, deliver } = setup([{ error: 'refused: resolves to 10.0.0.1', refused: true }]);
    const { task, message } = await ended(store);
    await deliver(message(1));
    expect(retries).toEqual([]);
    expect((await store.get(task.task_id))?.callback_state).toBe('GAVE_UP');
  });

  it('shares the task’s attempts between deliveries of one event, and drops a delivery once the callback has ended', async () => {
    const { store, posts, deliver } = setup([{ statusCode: 500 }, { statusCode: 500 }, { statusCode: 500 }, { statusCode: 200 }]);
    const { task, message } = await ended(store);
    // Two deliveries of the same event (a relayed one beside the writer's), each received twice.
    await expect(deliver(message(1))).rejects.toThrow();
    await expect(deliver(message(1))).rejects.toThrow();
    await deliver(message(2));
    await deliver(message(2));
    expect(posts).toHaveLength(3);
    expect((await store.get(task.task_id))?.callback_attempts.map((attempt) => attempt.attempt)).toEqual([1, 2, 3]);
    expect((await store.get(task.task_id))?.callback_state).toBe('GAVE_UP');
  });

  it('ends GAVE_UP a callback whose attempts were all taken without an outcome told (their deliverer stopped)', async () => {
    const { store, posts, deliver } = setup([]);
    const { task, message } = await ended(store);
    for (let attempt = 0; attempt < 3; attempt++) await store.beginCallbackAttempt(task.task_id, clock.now(), 3);
    await deliver(message(4));
    expect(posts).toEqual([]);
    expect((await store.get(task.task_id))?.callback_state).toBe('GAVE_UP');
  });

  it('calls no more once a delivery has been answered', async () => {
    const { store, posts, deliver } = setup([{ statusCode: 200 }, { statusCode: 200 }]);
    const { task, message } = await ended(store);
    await deliver(message(1));
    await deliver(message(1));
    expect(posts).toHaveLength(1);
    expect((await store.get(task.task_id))?.callback_attempts).toHaveLength(1);
  });

  it('drops a message that is not a delivery, without a call', async () => {
    const { posts, deliver } = setup([]);
    await deliver({ body: '{"task_id":"nope"}', receiptHandle: 'r', receiveCount: 1 });
    await deliver({ body: 'not json', receiptHandle: 'r', receiveCount: 1 });
    expect(posts).toEqual([]);
  });
});

describe('the HTTP callback sender', () => {
  let server: Server;
  let port: number;
  const received: string[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      received.push(request.url ?? '');
      request.resume().on('end', () => response.writeHead(request.url === '/redirect' ? 302 : 200, { location: 'http://169.254.169.254/' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('calls an allowed address, and follows no redirect', async () => {
    const sender = new HttpCallbackSender(parseCallbackPolicy('*', '127.0.0.0/8'), 2_000);
    expect(await sender.post(`http://127.0.0.1:${port}/ok`, '{}', {})).toEqual({ statusCode: 200 });
    expect(await sender.post(`http://localhost:${port}/redirect`, '{}', {})).toEqual({ statusCode: 302 });
    expect(received).toEqual(['/ok', '/redirect']);
  });

  it('refuses, without a connection, an address the policy does not allow, by literal or by name', async () => {
    const sender = new HttpCallbackSender(parseCallbackPolicy('*', ''), 2_000);
    received.length = 0;
    expect(await sender.post(`http://127.0.0.1:${port}/x`, '{}', {})).toMatchObject({ refused: true, error: expect.stringMatching(/loopback/) });
    expect(await sender.post(`http://localhost:${port}/x`, '{}', {})).toMatchObject({ refused: true });
    expect(received).toEqual([]);
  });

  it('reports a connection that fails as no answer, to be tried again', async () => {
    const sender = new HttpCallbackSender(parseCallbackPolicy('*', '127.0.0.0/8'), 2_000);
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    expect(await sender.post(`http://127.0.0.1:${closed}/`, '{}', {})).toMatchObject({ refused: false, error: expect.stringMatching(/^no answer/) });
  });

  it('checks every address a name resolves to where the connection is made: one refused address refuses the name', async () => {
    const resolveTo =
      (...addresses: string[]) =>
      (_host: string, _options: unknown, callback: (error: null, addresses: LookupAddress[]) => void) =>
        callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
    const policy = parseCallbackPolicy('*', '');
    const lookUp = (...addresses: string[]) =>
      new Promise<{ error: Error | null; address: unknown }>((resolve) =>
        guardedLookup(policy, resolveTo(...addresses) as never)('hooks.example.com', {}, (error, address) => resolve({ error, address })),
      );
    expect(await lookUp('93.184.215.14')).toEqual({ error: null, address: '93.184.215.14' });
    const rebound = await lookUp('93.184.215.14', '10.0.0.7');
    expect(rebound.error?.message).toMatch(/hooks.example.com resolves to 10.0.0.7 is a private address/);
  });
});
