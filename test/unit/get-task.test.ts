import { createHandler as createGet } from '#functions/get-task';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';
import { apiEvent, lambdaContext } from '../support/events';

async function setup(extra: { callback_url?: string } = {}) {
  const store = new InMemoryTaskStore();
  const clock = new ManualClock();
  const tasks = createTaskService({ store, queue: new InMemoryTaskQueue(), clock, logger: silentLogger, waitPollMs: 10 });
  const { task_id } = await tasks.submit({ title: 't', description: 'd', metadata: {}, ...extra });
  const handler = createGet(tasks);
  const get = async (query: Record<string, string> = {}, headers: Record<string, string> = {}) => {
    const result = await handler(apiEvent({ pathParameters: { task_id }, queryStringParameters: query, headers }), lambdaContext());
    return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
  };
  const moveTo = (to: 'PROCESSING' | 'CANCELED') =>
    store.transition(task_id, to === 'PROCESSING' ? { to, at: clock.now(), leaseExpiresAt: new Date(clock.now().getTime() + 60_000), maxAttempts: 3 } : { to, at: clock.now() });
  const recordCallback = async (state?: 'DELIVERED' | 'GAVE_UP') => {
    const attempt = (await store.beginCallbackAttempt(task_id, clock.now(), 8))!;
    await store.recordCallbackAttempt(task_id, { attempt, at: clock.now().toISOString(), duration_ms: 5, status_code: state ? 200 : 500, error: state ? null : 'answered 500' }, state);
  };
  return { get, moveTo, clock, recordCallback };
}

describe('GET /api/tasks/{task_id}: ETag and caching', () => {
  it('sends a strong ETag that changes when the task changes, and no-cache while it is unfinished', async () => {
    const { get, moveTo, clock } = await setup();
    const first = await get();
    expect(first.statusCode).toBe(200);
    expect(first.headers?.ETag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(first.headers?.['Cache-Control']).toBe('no-cache');
    expect((await get()).headers?.ETag).toBe(first.headers?.ETag);
    clock.advance(1_000);
    await moveTo('PROCESSING');
    expect((await get()).headers?.ETag).not.toBe(first.headers?.ETag);
  });

  it('lets caches keep a final task for a day', async () => {
    const { get, moveTo } = await setup();
    await moveTo('CANCELED');
    expect((await get()).headers?.['Cache-Control']).toBe('private, max-age=86400, immutable');
  });

  it('keeps a final task revalidated while its callback is underway (it still changes), for a day once it is over', async () => {
    const { get, moveTo, recordCallback } = await setup({ callback_url: 'https://hooks.example.com/t' });
    await moveTo('CANCELED');
    const underway = await get();
    expect(underway.headers?.['Cache-Control']).toBe('no-cache');
    await recordCallback('DELIVERED');
    const over = await get();
    expect(over.headers?.['Cache-Control']).toBe('private, max-age=86400, immutable');
    expect(over.headers?.ETag).not.toBe(underway.headers?.ETag);
  });

  it.each([
    ['the current ETag', (etag: string) => etag],
    ['it in a list', (etag: string) => `"other", ${etag}`],
    ['it as a weak tag', (etag: string) => `W/${etag}`],
    ['*', () => '*'],
  ])('answers 304 with no body to If-None-Match naming %s', async (_, header) => {
    const { get } = await setup();
    const etag = String((await get()).headers!.ETag);
    const notModified = await get({}, { 'If-None-Match': header(etag) });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.headers?.ETag).toBe(etag);
  });

  it('answers 200 to an If-None-Match naming another ETag', async () => {
    const { get } = await setup();
    expect((await get({}, { 'If-None-Match': '"stale"' })).statusCode).toBe(200);
  });
});

describe('GET /api/tasks/{task_id}?wait=N', () => {
  it('answers a final task at once', async () => {
    const { get, moveTo } = await setup();
    await moveTo('CANCELED');
    const started = Date.now();
    expect((await get({ wait: '20' })).json.status).toBe('CANCELED');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('holds until the task is final', async () => {
    const { get, moveTo } = await setup();
    setTimeout(() => void moveTo('CANCELED'), 50);
    const answer = await get({ wait: '5' });
    expect(answer.json.status).toBe('CANCELED');
  });

  it('with If-None-Match, holds until the ETag differs: one call per change', async () => {
    const { get, moveTo } = await setup();
    const etag = String((await get()).headers!.ETag);
    setTimeout(() => void moveTo('PROCESSING'), 50);
    const changed = await get({ wait: '5' }, { 'If-None-Match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.json.status).toBe('PROCESSING');
    expect(changed.headers?.ETag).not.toBe(etag);
  });

  it('with If-None-Match on a final task whose callback is underway, holds until the callback’s next attempt', async () => {
    const { get, moveTo, recordCallback } = await setup({ callback_url: 'https://hooks.example.com/t' });
    await moveTo('CANCELED');
    const etag = String((await get()).headers!.ETag);
    let recorded = false;
    setTimeout(() => void recordCallback().then(() => (recorded = true)), 50);
    const changed = await get({ wait: '5' }, { 'If-None-Match': etag });
    expect(recorded).toBe(true);
    expect(changed.statusCode).toBe(200);
    expect(changed.json.callback_attempts).toHaveLength(1);
  });

  it('answers 304 after the wait when nothing changed', async () => {
    const { get } = await setup();
    const etag = String((await get()).headers!.ETag);
    const started = Date.now();
    const unchanged = await get({ wait: '1' }, { 'If-None-Match': etag });
    expect(unchanged.statusCode).toBe(304);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('answers the task as it stands after the wait without If-None-Match', async () => {
    const { get } = await setup();
    expect((await get({ wait: '1' })).json.status).toBe('PENDING');
  });

  it.each([['0'], ['21'], ['1.5'], ['1e1'], ['0x2'], ['soon'], ['']])('refuses wait=%s with 400 VALIDATION_ERROR', async (wait) => {
    const { get } = await setup();
    const refused = await get({ wait });
    expect(refused.statusCode).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'query.wait' }] });
  });
});
