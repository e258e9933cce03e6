import { eventually, stackEnv } from '../support/stack-env';

const { apiUrl, workMs, onEmbeddedStack } = stackEnv();

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const submit = (body: unknown = { title: 'Resize image', description: 'Make a 200px thumbnail', payload: { any: 'json' } }) =>
  call('POST', '/tasks', body);
const getTask = (id: string) => call('GET', `/tasks/${id}`);
const waitForStatus = (id: string, statuses: string[]) =>
  eventually(async () => {
    const { body } = await getTask(id);
    return statuses.includes(body.status) ? body : undefined;
  });

describe('the task API over HTTP, through serverless-offline and the local SQS trigger', () => {
  it('takes a task from submit through PENDING/PROCESSING to COMPLETED', async () => {
    const submitted = await submit();
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(`/api/tasks/${submitted.body.task_id}`);
    expect(submitted.body).toMatchObject({ status: 'PENDING', created_at: expect.any(String) });

    // Readable at once. Which status it shows depends on how fast this GET is against a second of
    // work (on LocalStack under load it was already COMPLETED); the path shows in its timestamps below.
    const first = await getTask(submitted.body.task_id);
    expect(first.status).toBe(200);
    expect(first.body.task_id).toBe(submitted.body.task_id);

    const processing = await waitForStatus(submitted.body.task_id, ['PROCESSING', 'COMPLETED']);
    const completed = await waitForStatus(submitted.body.task_id, ['COMPLETED']);
    expect(completed).toMatchObject({
      status: 'COMPLETED',
      attempts: 1,
      result: { payload_bytes: 14 },
      error: null,
      canceled_at: null,
    });
    expect(Date.parse(completed.started_at)).toBeGreaterThanOrEqual(Date.parse(completed.created_at));
    const workedMs = Date.parse(completed.completed_at) - Date.parse(completed.started_at);
    expect(workedMs).toBeGreaterThanOrEqual(workMs);
    expect(processing.started_at).toBe(completed.started_at);
  });

  it('processes a batch submitted in one request: all COMPLETED', async () => {
    const batch = await call('POST', '/tasks/batch', {
      tasks: Array.from({ length: 10 }, (_, n) => ({ title: `batch ${n}`, description: 'e2e batch' })),
    });
    expect(batch.status).toBe(202);
    expect(batch.body.tasks).toHaveLength(10);
    for (const { task_id } of batch.body.tasks) {
      expect(await waitForStatus(task_id, ['COMPLETED'])).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    }
  });

  it('keeps a task canceled while PROCESSING as CANCELED, never COMPLETED', async () => {
    // Ten seconds of work: the cancel lands inside it however slow the cancel's own call is (on
    // LocalStack, a cold container and a busy machine took it past the default second of work).
    const workMsOfTask = 10_000;
    const { body } = await submit({ title: 'Long', description: 'canceled while it runs', payload: { simulate: { work_ms: workMsOfTask } } });
    const processing = await waitForStatus(body.task_id, ['PROCESSING']);
    const canceled = await call('POST', `/tasks/${body.task_id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'CANCELED', canceled_at: expect.any(String) });
    // Past the moment the work would have ended: a completion, had one been written, would be there.
    const endOfWork = Date.parse(processing.started_at) + workMsOfTask + 500;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endOfWork - Date.now())));
    expect((await getTask(body.task_id)).body).toMatchObject({ status: 'CANCELED', completed_at: null, result: null });
  });

  it('cancels a task just submitted, and answers 200 to a second cancel', async () => {
    // Ten seconds of work: whether the processor has claimed it yet or not, the cancel comes before its end.
    const { body } = await submit({ title: 'Canceled early', description: 'at once', payload: { simulate: { work_ms: 10_000 } } });
    const first = await call('POST', `/tasks/${body.task_id}/cancel`);
    const second = await call('POST', `/tasks/${body.task_id}/cancel`);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('CANCELED');
  });

  it('refuses to cancel a COMPLETED task with 409 TASK_NOT_CANCELABLE', async () => {
    const { body } = await submit();
    await waitForStatus(body.task_id, ['COMPLETED']);
    const refused = await call('POST', `/tasks/${body.task_id}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'TASK_NOT_CANCELABLE', details: [{ status: 'COMPLETED' }] });
  });

  it.each([
    ['an unknown route', 'GET', '/nothing-here', undefined, {}, 404, 'NOT_FOUND'],
    ['an unserved method on a known path', 'DELETE', '/tasks', undefined, {}, 405, 'METHOD_NOT_ALLOWED'],
    ['an unserved method on a task', 'PUT', '/tasks/3f1c0e7a-2c1b-4b8e-9d55-0c7f3d0f4a11', { title: 't' }, {}, 405, 'METHOD_NOT_ALLOWED'],
    ['an unknown task', 'GET', '/tasks/3f1c0e7a-2c1b-4b8e-9d55-0c7f3d0f4a11', undefined, {}, 404, 'NOT_FOUND'],
    ['a task id that is not a UUID', 'GET', '/tasks/abc', undefined, {}, 400, 'VALIDATION_ERROR'],
    ['a body that is not JSON', 'POST', '/tasks', '{"title":', {}, 400, 'INVALID_JSON'],
    ['an empty title', 'POST', '/tasks', { title: ' ', description: 'd' }, {}, 400, 'VALIDATION_ERROR'],
    ['a text body', 'POST', '/tasks', 'hello', { 'Content-Type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a body of 256 KiB + 1 byte', 'POST', '/tasks', 'x'.repeat(256 * 1024 + 1), {}, 413, 'PAYLOAD_TOO_LARGE'],
  ] as const)('answers %s with the contract error', async (_, method, path, body, headers, status, code) => {
    const response = await call(method, path, body, headers);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      error: { code, message: expect.any(String), details: expect.any(Array) },
      request_id: expect.any(String),
    });
  });

  it('names in Allow the methods a known path serves, when asked with another', async () => {
    expect((await call('DELETE', '/tasks')).headers.get('allow')).toBe('GET, POST');
    expect((await call('POST', '/health')).headers.get('allow')).toBe('GET');
  });

  // The embedded stack's own HTTP server: API Gateway refuses a URL over 10,240 characters before any
  // function runs (docs/api.md), and LocalStack's gateway closes the connection, so there is no
  // contract answer to check on a deployment.
  (onEmbeddedStack ? it : it.skip)('answers a URL of 24 KB (a long cursor) with the contract\'s JSON error, not a bare 400 from the HTTP server', async () => {
    const response = await call('GET', `/tasks?cursor=${'c'.repeat(24 * 1024)}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'query.cursor', message: 'is too long' }] });
  });

  it('answers a retried submit with the same Idempotency-Key with the same task', async () => {
    const key = `e2e-${Date.now()}-${Math.random()}`;
    const body = { title: 'Idempotent', description: 'once' };
    const first = await call('POST', '/tasks', body, { 'Idempotency-Key': key });
    const retry = await call('POST', '/tasks', body, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(retry.body.task_id).toBe(first.body.task_id);
    const reused = await call('POST', '/tasks', { ...body, title: 'Other' }, { 'Idempotency-Key': key });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('lists each of 35 tasks exactly once, as summaries, in a walk started while they are processed', async () => {
    const task = (n: number) => ({ title: `walk ${n}`, description: 'd', payload: { n } });
    const batch = await call('POST', '/tasks/batch', { tasks: Array.from({ length: 30 }, (_, n) => task(n)) });
    expect(batch.status).toBe(202);
    const singles = await Promise.all([30, 31, 32, 33, 34].map((n) => submit(task(n))));
    const ids = [...batch.body.tasks, ...singles.map((s) => s.body)].map((t: { task_id: string }) => t.task_id);
    const since = (await getTask(ids[0]!)).body.created_at;

    const listed: Array<{ task_id: string; created_at: string }> = [];
    let path = '/tasks?limit=6';
    for (let page = 0; page < 200; page++) {
      const { status, body } = await call('GET', path);
      expect(status).toBe(200);
      listed.push(...body.tasks);
      if (!body.next_cursor || body.tasks.some((t: { created_at: string }) => t.created_at < since)) break;
      path = `/tasks?limit=6&cursor=${encodeURIComponent(body.next_cursor)}`;
    }
    const listedIds = listed.map((t) => t.task_id);
    expect(new Set(listedIds).size).toBe(listedIds.length);
    expect(listedIds.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    const order = listed.map((t) => t.created_at);
    expect(order).toEqual([...order].sort().reverse());
    expect(listed.every((t) => !('payload' in t) && !('result' in t))).toBe(true);
    expect((await call('GET', '/tasks?status=NOPE')).status).toBe(400);
  });

  it.each([
    ['GET', '/docs/constructor', undefined, {}, 404, 'NOT_FOUND'],
    ['GET', '/docs/__proto__', undefined, {}, 404, 'NOT_FOUND'],
    ['GET', '/docs/toString', undefined, {}, 404, 'NOT_FOUND'],
    ['GET', `/tasks?cursor=${Buffer.from('{"status":null,"positions":{"PENDING#0":["",""]}}').toString('base64url')}`, undefined, {}, 400, 'VALIDATION_ERROR'],
    ['GET', '/tasks?limit=0x10', undefined, {}, 400, 'VALIDATION_ERROR'],
    ['GET', '/tasks?limit=1e1', undefined, {}, 400, 'VALIDATION_ERROR'],
    ['POST', '/tasks', '', { 'Content-Type': 'application/json' }, 400, 'INVALID_JSON'],
    ['POST', '/tasks', 'hi', { 'Content-Type': 'application/json' }, 400, 'INVALID_JSON'],
    // JSON that is not an object. ("hi" and null are in the unit suite: serverless-offline 14 hands
    // the function a body that is a JSON string or null decoded, which API Gateway never does.)
    ['POST', '/tasks', '12', { 'Content-Type': 'application/json' }, 400, 'VALIDATION_ERROR'],
    ['POST', '/tasks/batch', '[]', { 'Content-Type': 'application/json' }, 400, 'VALIDATION_ERROR'],
  ])('answers %s %s (body %j) with %#: the contract error, never a 5xx', async (method, path, body, headers, status, code) => {
    const response = await fetch(`${apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error: { code }, request_id: expect.any(String) });
  });

  it('takes Application/JSON as JSON', async () => {
    const response = await fetch(`${apiUrl}/tasks`, {
      method: 'POST',
      headers: { 'Content-Type': 'Application/JSON; charset=UTF-8' },
      body: JSON.stringify({ title: 't', description: 'd' }),
    });
    expect(response.status).toBe(202);
  });

  it('follows a task with one waiting call per change, ETags and 304s', async () => {
    const { body: submitted } = await submit();
    const first = await getTask(submitted.task_id);
    let etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    // (No 304 asked for here: the task may be claimed between two calls. The final one below cannot change.)

    const seen = [first.body.status];
    for (let calls = 0; calls < 5 && seen.at(-1) !== 'COMPLETED'; calls++) {
      const next = await call('GET', `/tasks/${submitted.task_id}?wait=20`, undefined, { 'If-None-Match': etag });
      if (next.status === 304) continue;
      expect(next.status).toBe(200);
      expect(next.headers.get('etag')).not.toBe(etag);
      etag = next.headers.get('etag')!;
      seen.push(next.body.status);
    }
    expect(seen.at(-1)).toBe('COMPLETED');
    const final = await call('GET', `/tasks/${submitted.task_id}?wait=20`);
    expect(final.headers.get('cache-control')).toBe('private, max-age=86400, immutable');
    const notModified = await call('GET', `/tasks/${submitted.task_id}`, undefined, { 'If-None-Match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeUndefined();
    expect((await call('GET', `/tasks/${submitted.task_id}?wait=0`)).status).toBe(400);
  });

  it('serves the OpenAPI document and Swagger UI with its assets, no CDN', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/tasks', '/api/tasks/{task_id}', '/api/tasks/{task_id}/cancel']));
    const page = await fetch(`${apiUrl}/docs`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
      expect(html).toContain(`docs/${asset}`);
      const response = await fetch(`${apiUrl}/docs/${asset}`);
      expect(response.status).toBe(200);
      expect((await response.text()).length).toBeGreaterThan(10_000);
    }
  });

  it('reports the tasks by status, counted from the table, the queues\' depths and the last hour', async () => {
    // The stack is shared with other suites: what is known is that this task is counted once it completed,
    // in the table and in the last hour the processor's invocation wrote its minute to.
    const earlier = (await call('GET', '/stats')).body;
    const submitted = await submit();
    await waitForStatus(submitted.body.task_id, ['COMPLETED']);
    const stats = await eventually(async () => {
      const response = await call('GET', '/stats');
      return response.body.tasks.by_status.COMPLETED > earlier.tasks.by_status.COMPLETED && response.body.last_hour.completed > earlier.last_hour.completed ? response : undefined;
    });
    expect(stats.body.last_hour.per_minute).toHaveLength(60);
    expect(stats.body.last_hour.start_to_end_ms.p50).toEqual(expect.any(Number));
    expect(stats.status).toBe(200);
    expect(stats.headers.get('cache-control')).toBe(`max-age=${stats.body.max_age_seconds}`);
    const byStatus = stats.body.tasks.by_status as Record<string, number>;
    expect(stats.body.tasks.total).toBe(Object.values(byStatus).reduce((sum, n) => sum + n, 0));
    for (const depth of [stats.body.queue, stats.body.dead_letter_queue]) {
      expect(Object.keys(depth).sort()).toEqual(['delayed', 'in_flight', 'waiting']);
    }
  });

  it('retries a FAILED task as a new one, once, and refuses to retry a task that did not fail', async () => {
    const failing = await submit({ title: 'Fails', description: 'every attempt', payload: { simulate: { fail_attempts: 3, work_ms: 0 } } });
    const failed = await waitForStatus(failing.body.task_id, ['FAILED']);
    const retry = await call('POST', `/tasks/${failed.task_id}/retry`);
    expect(retry).toMatchObject({ status: 202, body: { status: 'PENDING', retry_of: failed.task_id } });
    expect(retry.headers.get('location')).toBe(`/api/tasks/${retry.body.task_id}`);
    expect((await getTask(failed.task_id)).body).toMatchObject({ status: 'FAILED', retried_as: retry.body.task_id, error: failed.error });
    expect((await getTask(retry.body.task_id)).body).toMatchObject({ retry_of: failed.task_id, payload: { simulate: { fail_attempts: 3, work_ms: 0 } } });
    expect((await call('POST', `/tasks/${failed.task_id}/retry`)).body.task_id).toBe(retry.body.task_id);

    const done = await submit();
    await waitForStatus(done.body.task_id, ['COMPLETED']);
    const refused = await call('POST', `/tasks/${done.body.task_id}/retry`);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'TASK_NOT_RETRYABLE', details: [{ status: 'COMPLETED' }] } } });
  });

  it('answers bulk redrive and cancel with what they did and where to continue, and refuses a bad filter', async () => {
    // Filters that match no task: the stack is shared, and these calls must not act on other suites' tasks.
    const redrive = await call('POST', '/tasks/redrive', { failed_after: '2999-01-01T00:00:00.000Z', limit: 5 });
    expect(redrive).toMatchObject({ status: 200, body: { redriven: [] } });
    expect(redrive.body).toHaveProperty('next_cursor');
    const cancel = await call('POST', '/tasks/cancel', { status: 'PENDING', created_before: '2000-01-01T00:00:00.000Z' });
    expect(cancel).toMatchObject({ status: 200, body: { canceled: [], skipped: [] } });
    expect((await call('POST', '/tasks/cancel', { status: 'PROCESSING' })).body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'status' }] });
    expect((await call('POST', '/tasks/redrive', { limit: 101 })).body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'limit' }] });
  });

  it('reports health', async () => {
    const response = await call('GET', '/health');
    expect(response).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});
