import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a request's `traceparent` is honoured,
 * or a trace is started; the trace id travels with the task through its queue messages, so every
 * log line of the task's life carries one `trace_id`. The context is the async one of the request
 * or record being handled: records of one batch are worked concurrently, each in its own trace.
 */
export interface TraceContext {
  traceId: string;
  /** The header to send downstream: the same trace, this hop as the parent. */
  traceparent: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The trace of a `traceparent` header if it is a valid one, else a new trace. */
export function traceFrom(header: string | undefined): TraceContext {
  const match = TRACEPARENT.exec(header?.trim() ?? '');
  const [, version, traceId, parentId, flags, rest] = match ?? [];
  const valid =
    match !== null &&
    version !== 'ff' &&
    !/^0+$/.test(traceId!) &&
    !/^0+$/.test(parentId!) &&
    // Version 00 has exactly four fields; a later version may add more.
    (version !== '00' || rest === undefined);
  const id = valid ? traceId! : randomBytes(16).toString('hex');
  return { traceId: id, traceparent: `00-${id}-${randomBytes(8).toString('hex')}-${valid ? flags : '01'}` };
}

const current = new AsyncLocalStorage<TraceContext>();

export function withTrace<T>(trace: TraceContext, fn: () => T): T {
  return current.run(trace, fn);
}

/** The trace of the request or record being handled, if any. */
export function currentTrace(): TraceContext | undefined {
  return current.getStore();
}
