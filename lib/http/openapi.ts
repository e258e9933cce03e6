import { z } from 'zod';
import {
  JsonValueSchema,
  SimulateSchema,
  GetTaskHeadersSchema,
  GetTaskQuerySchema,
  ListTasksQuerySchema,
  MAX_BATCH_SIZE,
  SubmitHeadersSchema,
  SubmittedBatchSchema,
  ServiceStatsSchema,
  RetriedTaskSchema,
  RedriveRequestSchema,
  RedriveResultSchema,
  BulkCancelRequestSchema,
  BulkCancelResultSchema,
  SubmitTaskSchema,
  SubmittedTaskSchema,
  TaskListSchema,
  TaskSummarySchema,
  TaskPathSchema,
  TaskSchema,
} from '#lib/tasks/model';
import { serviceKinds } from '#lib/kinds';
import { DEFAULT_KIND, type KindRegistry } from '#lib/tasks/kind';
import { ERROR_CODES } from './errors';
import { CompletionEventSchema } from '#lib/tasks/completion-events';

/**
 * The OpenAPI 3 document, generated (zod's own `toJSONSchema`) from the same zod schemas the
 * handlers validate with, so the document cannot drift from what the API accepts and answers.
 */
const ErrorSchema = z.object({
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string(), details: z.array(z.unknown()) }),
  request_id: z.string(),
});
const HealthSchema = z.object({ status: z.literal('ok') });

type JsonSchema = Record<string, unknown>;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** `checksum` → `ChecksumPayload`: each kind's payload schema is a component of its own. */
const payloadComponentOf = (kindName: string) => `${kindName.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase())}Payload`;

/**
 * The submit body as the document shows it: one variant per kind (`kind` and that kind's payload),
 * from the same zod schemas submit validates with. The default kind's `kind` may be left out.
 */
function submitTaskSchemas(kinds: KindRegistry) {
  const payloads = Object.fromEntries(kinds.kinds.map((kind) => [payloadComponentOf(kind.name), kind.payload.meta({ description: kind.description })]));
  const variants = kinds.kinds.map((kind) =>
    SubmitTaskSchema.extend({
      kind: kind.name === DEFAULT_KIND ? z.literal(kind.name).optional().meta({ description: 'May be left out: the default kind' }) : z.literal(kind.name),
      payload: payloads[payloadComponentOf(kind.name)]!,
    }),
  );
  const SubmitTask = z.union(variants).meta({ description: `A task of any kind this deployment runs: ${kinds.names.join(', ')}. Without \`kind\`, of the default kind (${DEFAULT_KIND}).` });
  const SubmitBatch = z.strictObject({ tasks: z.array(SubmitTask).min(1).max(MAX_BATCH_SIZE) });
  return { SubmitTask, SubmitBatch, ...payloads };
}

/** Component schemas, requests as their input type, responses as their output type. */
function componentSchemas(kinds: KindRegistry): Record<string, JsonSchema> {
  const convert = (schemas: Record<string, z.ZodType>, io: 'input' | 'output') => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
    registry.add(JsonValueSchema, { id: 'JsonValue' });
    return z.toJSONSchema(registry, {
      target: 'openapi-3.0',
      io,
      uri: (id) => ref(id).$ref,
      override: (ctx) => {
        // JSON values are recursive; OpenAPI 3.0 says it best as "any value".
        if (ctx.zodSchema === JsonValueSchema) {
          for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonSchema)[key];
          Object.assign(ctx.jsonSchema, { description: 'Any JSON value' });
        }
        // "Any value" already includes null; OpenAPI 3.0 allows `nullable` only beside a `type`.
        const schema = ctx.jsonSchema as JsonSchema;
        if (schema.nullable === true && schema.type === undefined) delete schema.nullable;
        // OpenAPI 3.0.3: `nullable` does not widen an `enum`; null must be one of its values to be allowed.
        if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
      },
    }).schemas as Record<string, JsonSchema>;
  };
  const strip = (schemas: Record<string, JsonSchema>) =>
    Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, id: _id, ...schema }]) => [id, schema]));
  return strip({
    ...convert({ ...submitTaskSchemas(kinds), Simulate: SimulateSchema, RedriveRequest: RedriveRequestSchema, BulkCancelRequest: BulkCancelRequestSchema }, 'input'),
    ...convert(
      {
        Task: TaskSchema,
        TaskSummary: TaskSummarySchema,
        TaskList: TaskListSchema,
        SubmittedTask: SubmittedTaskSchema,
        SubmittedBatch: SubmittedBatchSchema,
        Error: ErrorSchema,
        Health: HealthSchema,
        ServiceStats: ServiceStatsSchema,
        RetriedTask: RetriedTaskSchema,
        RedriveResult: RedriveResultSchema,
        BulkCancelResult: BulkCancelResultSchema,
        CompletionEvent: CompletionEventSchema.meta({
          description:
            "The body POSTed to a task's callback_url when it ends, signed: X-Task-Signature is `v1=` and the hex HMAC-SHA256 of `<X-Task-Timestamp>.<body>` " +
            "with the stage's secret; X-Task-Event-Id is its event_id. The same object is the `detail` of the event on the stack's EventBridge bus " +
            '(source `task-service`, detail-type `Task Completed`, `Task Failed` or `Task Canceled`).',
        }),
      },
      'output',
    ),
  });
}

/** OpenAPI parameters from an object schema's properties. */
function parameters(schema: z.ZodObject, where: 'path' | 'query' | 'header') {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as {
    properties: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties).map(([name, { pattern, ...property }]) => ({
    name: where === 'header' ? name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()) : name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    // A number parsed from the query string's digits is described as the integer it is, not as its text.
    schema: property.type === 'integer' ? property : { ...property, ...(pattern === undefined ? {} : { pattern }) },
  }));
}

const json = (schemaName: string, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(schemaName) } },
});
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: INVALID_JSON or VALIDATION_ERROR',
  404: 'NOT_FOUND',
  409: 'Conflict: TASK_NOT_CANCELABLE or IDEMPOTENCY_KEY_REUSED',
  413: 'PAYLOAD_TOO_LARGE: the body is over 256 KiB',
  415: 'UNSUPPORTED_MEDIA_TYPE: the body must be application/json',
  500: 'INTERNAL_ERROR: a fault of the service; the log has the details under the same request_id',
  503: 'SERVICE_UNAVAILABLE: a dependency did not answer; retry after Retry-After seconds',
};
const READ_HEADERS = {
  ETag: { required: true, description: 'Strong; changes whenever the task changes', schema: { type: 'string' } },
  'Cache-Control': { required: true, description: '`no-cache` while the task is unfinished; `private, max-age=86400, immutable` once it is final', schema: { type: 'string' } },
};
const RETRY_AFTER = { 'Retry-After': { required: true, description: 'Seconds to wait before retrying', schema: { type: 'integer' } } };

/** The given statuses, and 500, which any route answers for a fault of its own. */
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    [...statuses, 500].map((status) => [
      status,
      { ...json('Error', ERROR_DESCRIPTIONS[status]!), ...(status === 503 ? { headers: RETRY_AFTER } : {}) },
    ]),
  );

/** The document of a deployment running `kinds` (by default, the kinds of kinds/index.ts). */
export function openApiDocument(kinds: KindRegistry = serviceKinds()) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Task service API',
      version: '1.0.0',
      description:
        'Submit tasks, follow their status, cancel them. Every error is `{"error": {"code", "message", "details"}, "request_id"}`; an unknown route is a 404 of that shape. ' +
        'Where the service runs with TASK_SIMULATION=on (locally, in tests, on the localstack stage), `payload.simulate` (schema `Simulate`) steers the simulated work and is validated at submit.',
    },
    paths: {
      '/api/tasks': {
        post: {
          operationId: 'submitTask',
          summary: 'Submit a task',
          parameters: parameters(SubmitHeadersSchema, 'header'),
          requestBody: { required: true, content: { 'application/json': { schema: ref('SubmitTask') } } },
          responses: {
            202: {
              ...json('SubmittedTask', 'Accepted: stored and queued for processing'),
              headers: { Location: { required: true, description: 'The task URL', schema: { type: 'string' } } },
            },
            ...errors(400, 409, 413, 415, 503),
          },
        },
        get: {
          operationId: 'listTasks',
          summary: 'List tasks, newest first',
          parameters: parameters(ListTasksQuerySchema, 'query'),
          responses: { 200: json('TaskList', 'A page of task summaries (no payload, no result: read the task for them); next_cursor is null on the last page'), ...errors(400, 503) },
        },
      },
      '/api/tasks/batch': {
        post: {
          operationId: 'submitTaskBatch',
          summary: 'Submit 1 to 100 tasks at once, validated all or nothing',
          requestBody: { required: true, content: { 'application/json': { schema: ref('SubmitBatch') } } },
          responses: {
            202: json('SubmittedBatch', 'Accepted: every task stored and queued, in request order'),
            ...errors(400, 413, 415, 503),
          },
        },
      },
      '/api/tasks/{task_id}': {
        get: {
          operationId: 'getTask',
          summary: 'Get a task; with wait, hold the answer until it is final or changes',
          parameters: [...parameters(TaskPathSchema, 'path'), ...parameters(GetTaskQuerySchema, 'query'), ...parameters(GetTaskHeadersSchema, 'header')],
          responses: {
            200: { ...json('Task', 'The task'), headers: READ_HEADERS },
            304: { description: 'Not modified: If-None-Match names the current ETag (no body)', headers: READ_HEADERS },
            ...errors(400, 404, 503),
          },
        },
      },
      '/api/tasks/{task_id}/cancel': {
        post: {
          operationId: 'cancelTask',
          summary: 'Cancel a task',
          parameters: parameters(TaskPathSchema, 'path'),
          responses: { 200: json('Task', 'The task, now CANCELED'), ...errors(400, 404, 409, 503) },
        },
      },
      '/api/tasks/{task_id}/retry': {
        post: {
          operationId: 'retryTask',
          summary: 'Retry a FAILED task as a new task',
          description: 'The FAILED task stays FAILED and names its retry in retried_as; the new task names it in retry_of. At most one retry per task: asked again, the same retry is answered.',
          parameters: parameters(TaskPathSchema, 'path'),
          responses: { 202: json('RetriedTask', 'The retry, stored and queued'), ...errors(400, 404, 409, 503) },
        },
      },
      '/api/tasks/redrive': {
        post: {
          operationId: 'redriveTasks',
          summary: 'Retry the FAILED tasks, one page per call',
          description: 'Looks at up to `limit` FAILED tasks, newest first, and retries each (failed after `failed_after`, if given). Repeat with next_cursor until it is null; repeating a call retries nothing twice.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('RedriveRequest') } } },
          responses: { 200: json('RedriveResult', 'What this call retried, and where the next continues'), ...errors(400, 413, 415, 503) },
        },
      },
      '/api/tasks/cancel': {
        post: {
          operationId: 'cancelTasks',
          summary: 'Cancel the PENDING tasks, one page per call',
          description: 'Looks at up to `limit` PENDING tasks, newest first, and cancels each (created before `created_before`, if given). Repeat with next_cursor until it is null; repeating a call is safe.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('BulkCancelRequest') } } },
          responses: { 200: json('BulkCancelResult', 'What this call canceled, and where the next continues'), ...errors(400, 413, 415, 503) },
        },
      },
      '/api/stats': {
        get: {
          operationId: 'getStats',
          summary: 'Tasks by status and the queues\' depths',
          description:
            'Counts read from the status index (exact, but for tasks that change status while it counts) and SQS\'s approximate queue counters, kept for max_age_seconds by each instance.',
          responses: { 200: json('ServiceStats', 'The numbers, with when they were read'), ...errors(503) },
        },
      },
      '/api/health': {
        get: { operationId: 'getHealth', summary: 'Health of the table and the queue', responses: { 200: json('Health', 'Both answer'), ...errors(503) } },
      },
      '/api/openapi.json': {
        get: { operationId: 'getOpenApiDocument', summary: 'This document', responses: { 200: { description: 'The OpenAPI document', content: { 'application/json': {} } } } },
      },
      '/api/docs': {
        get: { operationId: 'getDocsPage', summary: 'Swagger UI for this document', responses: { 200: { description: 'An HTML page', content: { 'text/html': {} } } } },
      },
      '/api/docs/{asset}': {
        get: {
          operationId: 'getDocsAsset',
          summary: "Swagger UI's script and stylesheet",
          parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string', enum: ['swagger-ui.css', 'swagger-ui-bundle.js'] } }],
          responses: {
            200: { description: 'The asset', content: { 'text/css': {}, 'application/javascript': {} } },
            ...errors(404),
          },
        },
      },
      '/dashboard': {
        get: { operationId: 'getDashboard', summary: 'A live page of the service, built on this API', responses: { 200: { description: 'An HTML page', content: { 'text/html': {} } } } },
      },
    },
    components: { schemas: componentSchemas(kinds) },
  };
}
