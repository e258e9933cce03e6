import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createHandler as createSubmit } from '#functions/submit';
import { createHandler as createList } from '#functions/list-tasks';
import { createHandler as createSubmitBatch } from '#functions/submit-batch';
import { createHandler as createGet } from '#functions/get-task';
import { createHandler as createCancel } from '#functions/cancel-task';
import { createHandler as createHealth } from '#functions/health';
import { createHandler as createStats } from '#functions/get-stats';
import { createStatsReader } from '#lib/tasks/stats';
import { OpenAPIBackend, type Document } from 'openapi-backend';
import addFormats from 'ajv-formats';
import { handler as openApi } from '#functions/openapi';
import { assets, page } from '#functions/docs';
import { MAX_BODY_BYTES } from '#lib/handlers/api';
import { openApiDocument } from '#lib/http/openapi';
import { CompletionEventSchema } from '#lib/tasks/completion-events';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryActivityLog, InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';
import { apiEvent, jsonPost, lambdaContext } from '../support/events';

type Operation = { responses: Record<string, unknown> };
const document = openApiDocument() as unknown as { openapi: string; paths: Record<string, Record<string, Operation>> };

/** Every http event of serverless.yml but the 404s for unknown routes and methods (`any`). */
function declaredRoutes(): Array<{ method: string; path: string }> {
  const config = parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'silent' }) as {
    functions: Record<string, { events?: Array<{ http?: { method: string; path: string } }> }>;
  };
  return Object.values(config.functions)
    .flatMap((fn) => fn.events ?? [])
    .flatMap((event) => (event.http ? [event.http] : []))
    .filter((http) => http.method.toLowerCase() !== 'any')
    .map((http) => ({ method: http.method.toLowerCase(), path: `/${http.path}` }));
}

const emptyGauge = { depth: async () => ({ waiting: 0, inFlight: 0, delayed: 0 }) };

const UNKNOWN = '3f1c0e7a-2c1b-4b8e-9d55-0c7f3d0f4a11';

/** Drives each handler through the cases that produce each of its statuses. */
async function observedStatuses(): Promise<Array<{ method: string; path: string; status: number }>> {
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskQueue();
  const tasks = createTaskService({ store, queue, clock: new ManualClock(), logger: silentLogger });
  const [submit, list, get, cancel, health] = [createSubmit(tasks), createList(tasks), createGet(tasks), createCancel(tasks), createHealth(store, queue)];
  const ctx = lambdaContext;
  const body = { title: 't', description: 'd' };
  const observed: Array<{ method: string; path: string; status: number }> = [];
  const record = (method: string, path: string) => (result: { statusCode: number }) => {
    observed.push({ method, path, status: result.statusCode });
  };
  const down = async (run: () => Promise<void>) => {
    store.down = true;
    await run();
    store.down = false;
  };

  const tasksPost = record('post', '/api/tasks');
  const accepted = await submit(jsonPost(body, { headers: { 'Idempotency-Key': 'k' } }), ctx());
  tasksPost(accepted);
  tasksPost(await submit(jsonPost('{'), ctx()));
  tasksPost(await submit(jsonPost({ ...body, title: 'other' }, { headers: { 'Idempotency-Key': 'k' } }), ctx()));
  tasksPost(await submit(jsonPost('x'.repeat(MAX_BODY_BYTES + 1)), ctx()));
  tasksPost(await submit(apiEvent({ method: 'POST', body: '{}', headers: { 'Content-Type': 'text/plain' } }), ctx()));
  await down(async () => tasksPost(await submit(jsonPost(body), ctx())));
  const id = JSON.parse(accepted.body).task_id as string;

  const batch = createSubmitBatch(tasks);
  const batchPost = record('post', '/api/tasks/batch');
  batchPost(await batch(jsonPost({ tasks: [body] }), ctx()));
  batchPost(await batch(jsonPost({ tasks: [] }), ctx()));
  batchPost(await batch(jsonPost('x'.repeat(MAX_BODY_BYTES + 1)), ctx()));
  batchPost(await batch(apiEvent({ method: 'POST', body: '{}', headers: { 'Content-Type': 'text/plain' } }), ctx()));
  await down(async () => batchPost(await batch(jsonPost({ tasks: [body] }), ctx())));

  const tasksGet = record('get', '/api/tasks');
  tasksGet(await list(apiEvent(), ctx()));
  tasksGet(await list(apiEvent({ queryStringParameters: { limit: '0' } }), ctx()));
  await down(async () => tasksGet(await list(apiEvent(), ctx())));

  const taskGet = record('get', '/api/tasks/{task_id}');
  for (const taskId of [id, 'bad', UNKNOWN]) taskGet(await get(apiEvent({ pathParameters: { task_id: taskId } }), ctx()));
  await down(async () => taskGet(await get(apiEvent({ pathParameters: { task_id: id } }), ctx())));

  const cancelPost = record('post', '/api/tasks/{task_id}/cancel');
  const completed = JSON.parse((await submit(jsonPost(body), ctx())).body).task_id as string;
  store.items.get(completed)!.task.status = 'COMPLETED';
  for (const taskId of [id, 'bad', UNKNOWN, completed]) {
    cancelPost(await cancel(apiEvent({ method: 'POST', pathParameters: { task_id: taskId } }), ctx()));
  }
  await down(async () => cancelPost(await cancel(apiEvent({ method: 'POST', pathParameters: { task_id: id } }), ctx())));

  const healthGet = record('get', '/api/health');
  healthGet(await health(apiEvent(), ctx()));
  await down(async () => healthGet(await health(apiEvent(), ctx())));

  // maxAge 0: each call reads again, so the store being down is seen.
  const stats = createStats(createStatsReader({ store, queue: emptyGauge, highPriorityQueue: emptyGauge, deadLetterQueue: emptyGauge, activity: new InMemoryActivityLog(), clock: new ManualClock(), maxAgeSeconds: 0 }));
  const statsGet = record('get', '/api/stats');
  statsGet(await stats(apiEvent({ path: '/api/stats' }), ctx()));
  await down(async () => statsGet(await stats(apiEvent({ path: '/api/stats' }), ctx())));

  record('get', '/api/openapi.json')(await openApi(apiEvent(), ctx()));
  record('get', '/api/docs')(await page(apiEvent(), ctx()));
  return observed;
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI document to the validator the suites check every answer with', async () => {
    const backend = new OpenAPIBackend({ definition: openApiDocument() as unknown as Document, quick: false, validate: true, strict: true, customizeAjv: (ajv) => addFormats(ajv) });
    await expect(backend.init()).resolves.toBeDefined();
  });

  it('is OpenAPI 3 and documents every route serverless.yml declares', () => {
    expect(document.openapi).toMatch(/^3\./);
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    const declared = declaredRoutes().map(({ method, path }) => `${method} ${path}`);
    expect(declared.length).toBeGreaterThanOrEqual(7);
    expect(documented.sort()).toEqual(declared.sort());
  });

  it('documents every status each handler answers', async () => {
    const observed = await observedStatuses();
    expect(new Set(observed.map((o) => o.status))).toEqual(new Set([200, 202, 400, 404, 409, 413, 415, 503]));
    for (const { method, path, status } of observed) {
      expect({ method, path, documented: Object.keys(document.paths[path]?.[method]?.responses ?? {}) }).toEqual({
        method,
        path,
        documented: expect.arrayContaining([String(status)]),
      });
    }
  });

  it('describes the submit body with the handlers\' own limits', () => {
    type ObjectSchema = { properties: Record<string, { maxLength?: number; enum?: string[]; $ref?: string }>; required?: string[]; additionalProperties?: boolean };
    const { components } = openApiDocument() as unknown as {
      components: { schemas: Record<string, ObjectSchema & { anyOf?: ObjectSchema[] }> };
    };
    // One variant per kind, each with the common fields, its `kind` and that kind's payload schema.
    const variants = components.schemas.SubmitTask!.anyOf!;
    expect(variants.map((variant) => variant.properties.kind!.enum)).toEqual([['simulated'], ['checksum'], ['compress']]);
    for (const variant of variants) {
      expect(variant.properties.title!.maxLength).toBe(255);
      expect(variant.properties.description!.maxLength).toBe(10_000);
      expect(variant.additionalProperties).toBe(false);
    }
    expect(variants[0]!.required).not.toContain('kind');
    expect(variants[1]!.required).toEqual(expect.arrayContaining(['kind', 'payload']));
    expect(variants[1]!.properties.payload!.$ref).toBe('#/components/schemas/ChecksumPayload');
    expect(components.schemas.ChecksumPayload!.required).toEqual(['data_base64']);
    // A title or description of only white space is refused by the document as by the service.
    for (const field of ['title', 'description']) {
      const pattern = new RegExp((variants[0]!.properties[field] as { pattern?: string }).pattern!);
      expect(['\r', ' \t ', ''].map((text) => pattern.test(text))).toEqual([false, false, false]);
      expect(pattern.test(' a ')).toBe(true);
    }
    // Every $ref points at a component that exists.
    const refs = [...JSON.stringify(openApiDocument()).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const name of refs) expect(components.schemas[name]).toBeDefined();
  });
});

describe('the docs', () => {
  it('serves Swagger UI and its assets from swagger-ui-dist, and a contract 404 for anything else', async () => {
    const html = await page(apiEvent(), lambdaContext());
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('SwaggerUIBundle');
    expect(html.body).not.toMatch(/https?:\/\//);
    const script = await assets(apiEvent({ pathParameters: { asset: 'swagger-ui-bundle.js' } }), lambdaContext());
    expect(script.statusCode).toBe(200);
    expect(script.headers?.['Content-Type']).toMatch(/javascript/);
    expect(script.body.length).toBeGreaterThan(100_000);
    const missing = await assets(apiEvent({ pathParameters: { asset: '../../package.json' } }), lambdaContext());
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe('NOT_FOUND');
  });
});

describe('the failure-path parts of the document', () => {
  it('documents payload.simulate and the Retry-After of every 503', () => {
    const document = openApiDocument() as unknown as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    };
    expect(Object.keys(document.components.schemas.Simulate?.properties ?? {})).toEqual(['fail_attempts', 'work_ms']);
    const unavailable = Object.values(document.paths).flatMap((operations) => Object.values(operations).flatMap((operation) => operation.responses['503'] ?? []));
    expect(unavailable.length).toBeGreaterThan(0);
    for (const response of unavailable) expect(response.headers).toHaveProperty('Retry-After');
  });
});

describe('the completion event in the document', () => {
  it('is a component with every field of the event, each required (a null says absent)', () => {
    const document = openApiDocument() as unknown as { components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> } };
    const event = document.components.schemas.CompletionEvent;
    const fields = Object.keys(CompletionEventSchema.shape);
    expect(Object.keys(event?.properties ?? {})).toEqual(fields);
    expect([...(event?.required ?? [])].sort()).toEqual([...fields].sort());
  });
});

describe('docs/openapi.json, the reference the repository carries', () => {
  it('is the document the handlers serve (npm run openapi rewrites it)', () => {
    expect(JSON.parse(readFileSync('docs/openapi.json', 'utf8'))).toEqual(JSON.parse(JSON.stringify(document)));
  });
});
