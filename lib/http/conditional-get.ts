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

/** A final task whose callback is still being made: its `callback_state` and `callback_attempts` will change. */
const callbackUnderway = (task: Task) => isFinal(task.status) && task.callback_state === 'PENDING';

/**
 * When a long-polling read may answer: the task is final, or no longer the one the client has. A
 * client that holds the final task while its callback is underway waits for the callback's next change.
 */
export const settledFor = (ifNoneMatch: string | undefined) => (task: Task) =>
  ifNoneMatch === undefined
    ? isFinal(task.status)
    : !ifNoneMatchHolds(ifNoneMatch, etagOf(task)) || (isFinal(task.status) && !callbackUnderway(task));

/**
 * The answer to a read: 200 with the task, or 304 when the client's copy is current; a final task
 * whose callback is over changes no more, so caches may keep it for a day; an unfinished one, or one
 * whose callback is still underway, only with revalidation.
 */
export function taskReadResponse(task: Task, ifNoneMatch: string | undefined): ApiResponse {
  const etag = etagOf(task);
  const headers = { ETag: etag, 'Cache-Control': isFinal(task.status) && !callbackUnderway(task) ? 'private, max-age=86400, immutable' : 'no-cache' };
  return ifNoneMatchHolds(ifNoneMatch, etag) ? { statusCode: 304, headers } : { statusCode: 200, body: task, headers };
}
