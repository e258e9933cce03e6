import fc from 'fast-check';
import { createHandler as createSubmit } from '#functions/submit';
import { createHandler as createGet } from '#functions/get-task';
import { createHandler as createCancel } from '#functions/cancel-task';
import { handler as notFound } from '#functions/not-found';
import { ERROR_CODES } from '#lib/http/errors';
import { createTaskService } from '#lib/tasks/service';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';
import { apiEvent, lambdaContext } from '../support/events';

/**
 * Generated requests against the handlers: every answer is a success or a 4xx of the contract's
 * shape, never a 5xx, and a refused request leaves nothing in the table or the queue.
 */
const store = new InMemoryTaskStore();
const queue = new InMemoryTaskQueue();
const tasks = createTaskService({ store, queue, clock: new ManualClock(), logger: silentLogger });
const submit = createSubmit(tasks);
const get = createGet(tasks);
const cancel = createCancel(tasks);

function expectRefusal(result: { statusCode: number; body: string }) {
  expect(result.statusCode).toBeGreaterThanOrEqual(400);
  expect(result.statusCode).toBeLessThan(500);
  const body = JSON.parse(result.body);
  expect(Object.keys(body).sort()).toEqual(['error', 'request_id']);
  expect(ERROR_CODES).toContain(body.error.code);
  expect(typeof body.error.message).toBe('string');
  expect(Array.isArray(body.error.details)).toBe(true);
}

const contentTypes = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/problem+json', 'text/plain', 'APPLICATION/JSON', ''),
  fc.string(),
);
const jsonish = fc.oneof(
  fc.json(),
  fc.string(),
  fc.record(
    {
      title: fc.oneof(fc.string(), fc.jsonValue()),
      description: fc.oneof(fc.string(), fc.jsonValue()),
      metadata: fc.jsonValue(),
      payload: fc.jsonValue(),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ).map((body) => JSON.stringify(body)),
);

describe('fuzzed requests', () => {
  it('submit answers 202 or a contract 4xx, and refused bodies store nothing', async () => {
    await fc.assert(
      fc.asyncProperty(jsonish, contentTypes, fc.boolean(), async (body, contentType, base64) => {
        const before = { items: store.items.size, messages: queue.messages.length };
        const event = apiEvent({
          method: 'POST',
          body: base64 ? Buffer.from(body).toString('base64') : body,
          headers: contentType ? { 'Content-Type': contentType } : {},
          isBase64Encoded: base64,
        });
        const result = await submit(event, lambdaContext());
        if (result.statusCode === 202) {
          expect(store.items.size).toBe(before.items + 1);
          expect(queue.messages.length).toBe(before.messages + 1);
        } else {
          expectRefusal(result);
          expect(store.items.size).toBe(before.items);
          expect(queue.messages.length).toBe(before.messages);
        }
      }),
      { numRuns: 2_000, seed: 7 },
    );
  });

  it('get and cancel answer a contract 4xx for any path parameter that is not a known task', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.uuid(), fc.constant('')), fc.boolean(), async (taskId, useCancel) => {
        const before = store.items.size;
        const handler = useCancel ? cancel : get;
        const result = await handler(apiEvent({ method: useCancel ? 'POST' : 'GET', pathParameters: { task_id: taskId } }), lambdaContext());
        expectRefusal(result);
        expect(store.items.size).toBe(before);
      }),
      { numRuns: 1_000, seed: 11 },
    );
  });

  it('unknown routes answer the contract 404 whatever the method, path and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
        fc.webPath(),
        fc.dictionary(fc.string({ minLength: 1 }), fc.string()),
        async (method, path, headers) => {
          const result = await notFound(apiEvent({ method, path, headers }), lambdaContext());
          expectRefusal(result);
          expect(result.statusCode).toBe(404);
        },
      ),
      { numRuns: 500, seed: 13 },
    );
  });
});
