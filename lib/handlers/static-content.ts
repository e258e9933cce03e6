import { z } from 'zod';
import { HttpRequestError } from '#lib/http/errors';
import type { StaticContent } from '#lib/http/responses';
import { apiHandler } from './api';

const PathParameters = z.record(z.string(), z.string());

/**
 * A handler for content that is not JSON (an HTML page, Swagger UI's assets): `lookup` finds it
 * by the path parameters; what it does not find is the contract's JSON 404, like any unknown route.
 */
export function staticContentHandler(lookup: (path: Record<string, string>) => StaticContent | undefined) {
  return apiHandler({ path: PathParameters }, async ({ path }) => {
    const content = lookup(path);
    if (!content) throw new HttpRequestError(404, 'NOT_FOUND', 'No such document');
    return { statusCode: 200, raw: content.body, headers: { 'Content-Type': content.contentType, 'Cache-Control': content.cacheControl } };
  });
}

/** One page, always the same. */
export const htmlPageHandler = (html: string) =>
  staticContentHandler(() => ({ body: html, contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' }));
