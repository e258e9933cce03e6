import { createHash } from 'node:crypto';
import type { Task } from '#lib/tasks/model';
import { isFinal } from '#lib/tasks/transitions';
import type { ApiResponse } from './responses';

/** A strong ETag: a digest of the representation, so it changes exactly when the task does. */
export function etagOf(task: Task): string {
  return `"${createHash('sha256').update(JSON.stringify(task)).digest('base64url').slice(0, 27)}"`;
}

/**
 * Whether an If-None-Match header names `etag` (RFC 9110 §13.1.2: a list of entity tags or `*`,
 * compared weakly, so `W/"x"` names `"x"`).
 */
export function ifNoneMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === etag);
}

/** When a long-polling read may answer: the task is final, or no longer the one the client has. */
export const settledFor = (ifNoneMatch: string | undefined) => (task: Task) =>
  isFinal(task.status) || (ifNoneMatch !== undefined && !ifNoneMatchHolds(ifNoneMatch, etagOf(task)));

/**
 * The answer to a read: 200 with the task, or 304 when the client's copy is current; a final task
 * can never change again, so caches may keep it for a day, an unfinished one only with revalidation.
 */
export function taskReadResponse(task: Task, ifNoneMatch: string | undefined): ApiResponse {
  const etag = etagOf(task);
  const headers = { ETag: etag, 'Cache-Control': isFinal(task.status) ? 'private, max-age=86400, immutable' : 'no-cache' };
  return ifNoneMatchHolds(ifNoneMatch, etag) ? { statusCode: 304, headers } : { statusCode: 200, body: task, headers };
}
