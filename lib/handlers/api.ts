import type middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import contentType from 'content-type';
import type { z } from 'zod';
import { invocationDeadline, withDeadline } from '#lib/deadline';
import { logger } from '#lib/logger';
import { HttpRequestError, mapError, type ErrorBody } from '#lib/http/errors';
import type { ApiResponse } from '#lib/http/responses';
import { traceFrom } from '#lib/trace';
import { baseHandler, traced } from './base';

/** The contract's limit on a request body, checked on the raw bytes before any parsing. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Time kept back from the function's timeout to answer: calls to dependencies end before it, so a slow one is a 503, never a gateway timeout. */
export const ANSWER_RESERVE_MS = 500;

export interface ApiSchemas {
  body?: z.ZodType;
  path?: z.ZodType;
  query?: z.ZodType;
  /** Parsed from the headers as normalized (lower-case names). */
  headers?: z.ZodType;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface ApiRequest<S extends ApiSchemas> {
  body: Parsed<S['body']>;
  path: Parsed<S['path']>;
  query: Parsed<S['query']>;
  headers: Parsed<S['headers']>;
  requestId: string;
  /** The API Gateway resource the request matched (`/api/tasks/{task_id}`, `/{proxy+}`). */
  resource: string;
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };

export function toProxyResult({ statusCode, body, raw, headers }: ApiResponse): APIGatewayProxyResult {
  if (raw !== undefined) return { statusCode, headers: { 'Cache-Control': 'no-store', ...headers }, body: raw };
  if (body === undefined) return { statusCode, headers: { 'Cache-Control': 'no-store', ...headers }, body: '' };
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function requestIdOf(event: APIGatewayProxyEvent, context: Context): string {
  return event.requestContext?.requestId ?? context.awsRequestId;
}

/** Refuses an oversized body from its raw size, before a byte of it is parsed. */
const bodySizeLimit = (maxBytes: number): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: ({ event }) => {
    if (typeof event.body !== 'string') return;
    const size = event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body);
    if (size > maxBytes) {
      throw new HttpRequestError(413, 'PAYLOAD_TOO_LARGE', `The request body is ${size} bytes; at most ${maxBytes} are allowed`);
    }
  },
});

/**
 * Gets a body ready for middy's JSON parser, whose media type test is case-sensitive: the media
 * type is matched as RFC 9110 says (case-insensitive, parameters allowed), and a missing or empty
 * body (API Gateway gives `null`) is not JSON, rather than the JSON `null`.
 */
const jsonRequestNormalizer = (): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: ({ event }) => {
    const header = event.headers?.['content-type'];
    if (header) {
      try {
        // parse() lower-cases the type and the parameter names.
        event.headers['content-type'] = contentType.format(contentType.parse(header));
      } catch {
        // Not a media type at all: left as sent, for the parser's 415.
      }
    }
    if (event.body === null || event.body === '') (event as { body?: string }).body = undefined;
  },
});

/** Turns every error into the contract's JSON error; a 5xx is logged with its cause and shows the client nothing of it. */
const errorResponses = (): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: (request) => {
    const mapped = mapError(request.error);
    const requestId = requestIdOf(request.event, request.context);
    if (mapped.statusCode >= 500) logger.error('Request failed', { request_id: requestId, error: request.error });
    else logger.info('Request refused', { request_id: requestId, status_code: mapped.statusCode, code: mapped.code });
    const body: ErrorBody = {
      error: { code: mapped.code, message: mapped.message, details: mapped.details },
      request_id: requestId,
    };
    request.response = toProxyResult({ statusCode: mapped.statusCode, body, ...(mapped.headers ? { headers: mapped.headers } : {}) });
  },
});

function formatIssues(issues: z.core.$ZodIssue[], prefix: string) {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return { path, message: issue.message };
  });
}

function parsePart(schema: z.ZodType | undefined, value: unknown, part: string): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = formatIssues(parsed.error.issues, part === 'body' ? '' : part);
  const message = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  throw new HttpRequestError(400, 'VALIDATION_ERROR', message, details);
}

/**
 * One API Gateway (REST, v1) handler: logging with the request id, header normalization, the body
 * size limit and JSON parsing where a body is expected, zod parsing of body, path and query, and
 * the contract's error shape for every failure. `handle` gets parsed input and returns JSON.
 */
export function apiHandler<S extends ApiSchemas>(
  schemas: S,
  handle: (request: ApiRequest<S>) => Promise<ApiResponse>,
) {
  const chain = baseHandler(async (event: APIGatewayProxyEvent, context: Context) => {
    const requestId = requestIdOf(event, context);
    logger.appendKeys({ request_id: requestId });
    const request = {
      body: parsePart(schemas.body, event.body, 'body'),
      path: parsePart(schemas.path, event.pathParameters ?? {}, 'path'),
      query: parsePart(schemas.query, event.queryStringParameters ?? {}, 'query'),
      headers: parsePart(schemas.headers, event.headers ?? {}, 'headers'),
      requestId,
      resource: event.resource ?? '',
    } as ApiRequest<S>;
    return toProxyResult(await withDeadline(invocationDeadline(context, ANSWER_RESERVE_MS), () => handle(request)));
  })
    .use(errorResponses())
    .use(httpHeaderNormalizer());
  if (schemas.body) chain.use(bodySizeLimit(MAX_BODY_BYTES)).use(jsonRequestNormalizer()).use(httpJsonBodyParser());
  return traced((event: APIGatewayProxyEvent) => traceFrom(headerOf(event, 'traceparent')), chain);
}

/** A request header by its name in any case, before the header normalizer has run. */
function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  const found = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  return found?.[1] ?? undefined;
}
