import { createHandler as createSubmit } from '#functions/submit';
import { createHandler as createGet } from '#functions/get-task';
import { createHandler as createCancel } from '#functions/cancel-task';
import { createHandler as createHealth } from '#functions/health';
import { handler as notFound } from '#functions/not-found';
import { assets as docAssets } from '#functions/docs';
import { apiHandler, MAX_BODY_BYTES } from '#lib/handlers/api';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger, simulatedKinds } from '../support/fakes';
import { apiEvent, jsonPost, lambdaContext } from '../support/events';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function setup() {
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskQueue();
  const clock = new ManualClock();
  const tasks = createTaskService({ store, queue, clock, logger: silentLogger });
  return {
    store,
    queue,
    clock,
    submit: createSubmit(tasks),
    get: createGet(tasks),
    cancel: createCancel(tasks),
    health: createHealth(store, queue),
  };
}

const parse = (result: { body: string }) => JSON.parse(result.body);
const validBody = { title: 'Resize image', description: 'Make a 200px thumbnail' };

function expectContractError(result: { statusCode: number; body: string }, status: number, code: string) {
  expect(result.statusCode).toBe(status);
  const body = parse(result);
  expect(body).toEqual({
    error: { code, message: expect.any(String), details: expect.any(Array) },
    request_id: expect.any(String),
  });
  expect(body.request_id.length).toBeGreaterThan(0);
  return body;
}

describe('a warm-up ping (how the embedded stack starts instances before the first request)', () => {
  it('is answered at once by every handler chain, doing no work', async () => {
    const { submit, store, queue } = setup();
    const ping = { source: 'serverless-plugin-warmup' } as unknown as Parameters<typeof submit>[0];
    expect(await submit(ping, lambdaContext())).toBe('warmup');
    expect(store.items.size).toBe(0);
    expect(queue.messages).toHaveLength(0);
  });
});

describe('POST /api/tasks', () => {
  it('stores a PENDING task, queues it and answers 202 with its location', async () => {
    const { submit, store, queue } = setup();
    const result = await submit(jsonPost({ ...validBody, metadata: { priority: 'high' }, payload: [1, 2] }), lambdaContext());
    expect(result.statusCode).toBe(202);
    const body = parse(result);
    expect(body).toEqual({
      task_id: expect.stringMatching(UUID),
      status: 'PENDING',
      message: expect.any(String),
      created_at: '2026-11-23T09:00:00.000Z',
    });
    expect(result.headers?.Location).toBe(`/api/tasks/${body.task_id}`);
    expect(result.headers?.['Content-Type']).toBe('application/json');
    expect(queue.messages).toEqual([{ task_id: body.task_id, kind: 'simulated' }]);
    expect(store.items.get(body.task_id)?.task).toMatchObject({
      status: 'PENDING',
      title: 'Resize image',
      metadata: { priority: 'high' },
      payload: [1, 2],
      attempts: 0,
      result: null,
      error: null,
      started_at: null,
    });
  });

  it('trims title and description, and defaults metadata to {}', async () => {
    const { submit, store } = setup();
    const body = parse(await submit(jsonPost({ title: '  T  ', description: '\tD\n' }), lambdaContext()));
    expect(store.items.get(body.task_id)?.task).toMatchObject({ title: 'T', description: 'D', metadata: {} });
  });

  it('accepts a charset on the JSON content type', async () => {
    const { submit } = setup();
    const result = await submit(
      jsonPost(validBody, { headers: { 'content-type': 'application/json; charset=utf-8' } }),
      lambdaContext(),
    );
    expect(result.statusCode).toBe(202);
  });

  it.each([
    ['an empty title', { ...validBody, title: '' }, 'title'],
    ['a whitespace title', { ...validBody, title: '   \t ' }, 'title'],
    ['a missing title', { description: 'd' }, 'title'],
    ['a title of 256 characters', { ...validBody, title: 'x'.repeat(256) }, 'title'],
    ['a number as title', { ...validBody, title: 42 }, 'title'],
    ['a whitespace description', { ...validBody, description: ' ' }, 'description'],
    ['a description of 10,001 characters', { ...validBody, description: 'x'.repeat(10_001) }, 'description'],
    ['metadata that is an array', { ...validBody, metadata: [1] }, 'metadata'],
    ['metadata that is a string', { ...validBody, metadata: 'high' }, 'metadata'],
    ['an unknown field', { ...validBody, urgency: 'high' }, ''],
    ['a priority that is not a lane', { ...validBody, priority: 'urgent' }, 'priority'],
  ])('refuses %s with 400 VALIDATION_ERROR', async (_, input, field) => {
    const { submit, store, queue } = setup();
    const body = expectContractError(await submit(jsonPost(input), lambdaContext()), 400, 'VALIDATION_ERROR');
    expect(body.error.details.length).toBeGreaterThan(0);
    expect(body.error.details[0].path).toBe(field);
    expect(store.items.size).toBe(0);
    expect(queue.messages).toHaveLength(0);
  });

  it.each([['{"title": '], ['not json'], ['{"title":"a",}']])('refuses a body that is not JSON (%s) with 400 INVALID_JSON', async (raw) => {
    const { submit, store } = setup();
    expectContractError(await submit(jsonPost(raw), lambdaContext()), 400, 'INVALID_JSON');
    expect(store.items.size).toBe(0);
  });

  it.each([
    ['Application/JSON'],
    ['APPLICATION/JSON; charset=UTF-8'],
    ['application/json ; charset=utf-8'],
    ['application/problem+json'],
  ])('matches the JSON media type as RFC 9110 does: %s is JSON', async (type) => {
    const { submit } = setup();
    expect((await submit(jsonPost(validBody, { headers: { 'Content-Type': type } }), lambdaContext())).statusCode).toBe(202);
  });

  it.each([[''], [null]])('refuses an empty body (%j) with 400 INVALID_JSON: it is not JSON', async (raw) => {
    const { submit, store } = setup();
    expectContractError(await submit(jsonPost('', { body: raw }), lambdaContext()), 400, 'INVALID_JSON');
    expect(store.items.size).toBe(0);
  });

  it.each([['null'], ['[]'], ['"text"'], ['12']])('refuses JSON that is not an object (%s) with 400 VALIDATION_ERROR', async (raw) => {
    const { submit } = setup();
    expectContractError(await submit(jsonPost(raw), lambdaContext()), 400, 'VALIDATION_ERROR');
  });

  it('refuses a body of 256 KiB + 1 byte with 413 before parsing it', async () => {
    const { submit, store } = setup();
    // Not even JSON: the size check must come first.
    const raw = 'x'.repeat(MAX_BODY_BYTES + 1);
    expectContractError(await submit(jsonPost(raw), lambdaContext()), 413, 'PAYLOAD_TOO_LARGE');
    expect(store.items.size).toBe(0);
  });

  it('counts bytes, not characters, and decodes base64 bodies before measuring', async () => {
    const { submit } = setup();
    const multiByte = JSON.stringify({ ...validBody, payload: 'é'.repeat(MAX_BODY_BYTES / 2) });
    expectContractError(await submit(jsonPost(multiByte), lambdaContext()), 413, 'PAYLOAD_TOO_LARGE');
    const encoded = Buffer.from(JSON.stringify(validBody)).toString('base64');
    expect((await submit(jsonPost(encoded, { isBase64Encoded: true }), lambdaContext())).statusCode).toBe(202);
  });

  it('accepts a body of exactly 256 KiB', async () => {
    const { submit } = setup();
    const skeleton = JSON.stringify({ ...validBody, payload: '' });
    const exact = JSON.stringify({ ...validBody, payload: 'p'.repeat(MAX_BODY_BYTES - skeleton.length) });
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    expect((await submit(jsonPost(exact), lambdaContext())).statusCode).toBe(202);
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded']])('refuses content type %s with 415', async (type) => {
    const { submit } = setup();
    const event = apiEvent({ method: 'POST', body: JSON.stringify(validBody), headers: { 'Content-Type': type } });
    expectContractError(await submit(event, lambdaContext()), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a body with no content type with 415', async () => {
    const { submit } = setup();
    const event = apiEvent({ method: 'POST', body: JSON.stringify(validBody) });
    expectContractError(await submit(event, lambdaContext()), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 503 when the queue send fails, and marks the stored task FAILED so none waits without a message', async () => {
    const { submit, store, queue } = setup();
    queue.down = true;
    const result = await submit(jsonPost(validBody), lambdaContext());
    expectContractError(result, 503, 'SERVICE_UNAVAILABLE');
    expect(result.headers?.['Retry-After']).toBe('5');
    expect(result.body).not.toMatch(/SimpleQueueService|arn:aws|at .*\.ts/);
    const stored = [...store.items.values()].map(({ task }) => task);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'FAILED', error: { code: 'ENQUEUE_FAILED' } });
  });

  it('answers 503 without a trace of the AWS error when DynamoDB is down', async () => {
    const { submit, store, queue } = setup();
    store.down = true;
    const result = await submit(jsonPost(validBody), lambdaContext());
    expectContractError(result, 503, 'SERVICE_UNAVAILABLE');
    expect(result.body).not.toMatch(/ECONNREFUSED|stack|\.ts:/);
    expect(queue.messages).toHaveLength(0);
  });
});

describe('GET /api/tasks/{task_id}', () => {
  it('returns the task', async () => {
    const { submit, get } = setup();
    const { task_id } = parse(await submit(jsonPost(validBody), lambdaContext()));
    const result = await get(apiEvent({ pathParameters: { task_id } }), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toMatchObject({ task_id, status: 'PENDING', result: null, canceled_at: null });
  });

  it.each([['not-a-uuid'], ['1234'], ["'; DROP TABLE"]])('answers 400 for a task id that is not a UUID (%s)', async (id) => {
    const { get } = setup();
    const body = expectContractError(await get(apiEvent({ pathParameters: { task_id: id } }), lambdaContext()), 400, 'VALIDATION_ERROR');
    expect(body.error.message).toMatch(/^path\.task_id: /);
  });

  it('answers 404 for an unknown task', async () => {
    const { get } = setup();
    const event = apiEvent({ pathParameters: { task_id: '3f1c0e7a-2c1b-4b8e-9d55-0c7f3d0f4a11' } });
    expectContractError(await get(event, lambdaContext()), 404, 'NOT_FOUND');
  });

  it('answers 503 when DynamoDB is down', async () => {
    const { get, store } = setup();
    store.down = true;
    const event = apiEvent({ pathParameters: { task_id: '3f1c0e7a-2c1b-4b8e-9d55-0c7f3d0f4a11' } });
    const result = await get(event, lambdaContext());
    expectContractError(result, 503, 'SERVICE_UNAVAILABLE');
    expect(result.body).not.toMatch(/ECONNREFUSED/);
  });
});

describe('POST /api/tasks/{task_id}/cancel', () => {
  async function submitted() {
    const context = setup();
    const { task_id } = parse(await context.submit(jsonPost(validBody), lambdaContext()));
    return { ...context, task_id, event: apiEvent({ method: 'POST', pathParameters: { task_id } }) };
  }

  it('cancels a PENDING task, and answers 200 again for a task already CANCELED', async () => {
    const { cancel, event, task_id } = await submitted();
    const first = await cancel(event, lambdaContext());
    expect(first.statusCode).toBe(200);
    expect(parse(first)).toMatchObject({ task_id, status: 'CANCELED', canceled_at: expect.any(String) });
    const again = await cancel(event, lambdaContext());
    expect(again.statusCode).toBe(200);
    expect(parse(again)).toEqual(parse(first));
  });

  it.each([['COMPLETED'], ['FAILED']] as const)('answers 409 TASK_NOT_CANCELABLE for a %s task, with its status', async (status) => {
    const { cancel, event, store, task_id } = await submitted();
    store.items.get(task_id)!.task.status = status;
    const body = expectContractError(await cancel(event, lambdaContext()), 409, 'TASK_NOT_CANCELABLE');
    expect(body.error.details).toEqual([{ status }]);
    expect(store.items.get(task_id)!.task.status).toBe(status);
  });

  it('answers 404 for an unknown task and 400 for a bad id', async () => {
    const { cancel } = setup();
    const unknown = apiEvent({ method: 'POST', pathParameters: { task_id: '3f1c0e7a-2c1b-4b8e-9d55-0c7f3d0f4a11' } });
    expectContractError(await cancel(unknown, lambdaContext()), 404, 'NOT_FOUND');
    const bad = apiEvent({ method: 'POST', pathParameters: { task_id: 'nope' } });
    expectContractError(await cancel(bad, lambdaContext()), 400, 'VALIDATION_ERROR');
  });

  it('answers 503 when DynamoDB is down', async () => {
    const { cancel, event, store } = await submitted();
    store.down = true;
    expectContractError(await cancel(event, lambdaContext()), 503, 'SERVICE_UNAVAILABLE');
  });
});

describe('GET /api/health', () => {
  it('is ok when the table and the queue answer', async () => {
    const { health } = setup();
    const result = await health(apiEvent(), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({ status: 'ok' });
  });

  it.each([['store'], ['queue']] as const)('is 503 when the %s does not answer', async (which) => {
    const context = setup();
    context[which].down = true;
    expectContractError(await context.health(apiEvent(), lambdaContext()), 503, 'SERVICE_UNAVAILABLE');
  });
});

describe('GET /api/docs/{asset}', () => {
  it.each([['constructor'], ['__proto__'], ['toString'], ['hasOwnProperty'], ['../package.json']])('answers %s with the contract 404', async (asset) => {
    expectContractError(await docAssets(apiEvent({ path: `/api/docs/${asset}`, pathParameters: { asset } }), lambdaContext()), 404, 'NOT_FOUND');
  });

  it('serves a Swagger UI asset with its media type', async () => {
    const result = await docAssets(apiEvent({ path: '/api/docs/swagger-ui.css', pathParameters: { asset: 'swagger-ui.css' } }), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['Content-Type']).toBe('text/css; charset=utf-8');
    expect(result.body.length).toBeGreaterThan(10_000);
  });
});

describe('errors', () => {
  it('answers an unknown route with the contract 404', async () => {
    expectContractError(await notFound(apiEvent({ path: '/api/nope' }), lambdaContext()), 404, 'NOT_FOUND');
    expectContractError(await notFound(apiEvent({ path: '/{proxy+}' }), lambdaContext()), 404, 'NOT_FOUND');
  });

  it('answers a method a known path does not serve with 405 and the methods it does serve in Allow', async () => {
    const result = await notFound(apiEvent({ method: 'DELETE', path: '/api/tasks' }), lambdaContext());
    expectContractError(result, 405, 'METHOD_NOT_ALLOWED');
    expect(result.headers?.Allow).toBe('GET, POST');
    const cancel = await notFound(apiEvent({ method: 'GET', path: '/api/tasks/{task_id}/cancel' }), lambdaContext());
    expect(cancel.headers?.Allow).toBe('POST');
  });

  it('turns an unexpected error into a 500 that says nothing of it', async () => {
    const broken = apiHandler({}, async () => {
      throw new TypeError('Cannot read properties of undefined (reading secret)');
    });
    const result = await broken(apiEvent(), lambdaContext());
    const body = expectContractError(result, 500, 'INTERNAL_ERROR');
    expect(body.error.message).toBe('An internal error occurred');
    expect(result.body).not.toMatch(/secret|TypeError/);
  });
});

describe('payload.simulate at submit', () => {
  const simulated = (simulation: boolean) => {
    const { store, queue, clock } = setup();
    return createSubmit(createTaskService({ store, queue, clock, logger: silentLogger }), simulatedKinds(0, { simulation }));
  };

  it.each([
    [{ fail_attempts: 11 }, 'payload.simulate.fail_attempts'],
    [{ fail_attempts: 1.5 }, 'payload.simulate.fail_attempts'],
    [{ work_ms: 20_001 }, 'payload.simulate.work_ms'],
    [{ work_ms: -1 }, 'payload.simulate.work_ms'],
    [{ retries: 2 }, 'payload.simulate'],
    ['fail', 'payload.simulate'],
  ])('refuses simulate %j with 400 naming %s while simulation is on', async (simulate, path) => {
    const result = await simulated(true)(jsonPost({ ...validBody, payload: { simulate } }), lambdaContext());
    const body = expectContractError(result, 400, 'VALIDATION_ERROR');
    expect(body.error.details.map((detail: { path: string }) => detail.path)).toContain(path);
  });

  it('accepts the contract\'s shape while simulation is on', async () => {
    const body = { ...validBody, payload: { simulate: { fail_attempts: 10, work_ms: 20_000 }, other: 1 } };
    expect((await simulated(true)(jsonPost(body), lambdaContext())).statusCode).toBe(202);
  });

  it('treats the payload as opaque data while simulation is off', async () => {
    const body = { ...validBody, payload: { simulate: 'anything at all' } };
    expect((await simulated(false)(jsonPost(body), lambdaContext())).statusCode).toBe(202);
  });
});
