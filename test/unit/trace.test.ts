import { createHandler as createGet } from '#functions/get-task';
import { sqsBatchHandler } from '#lib/handlers/sqs-batch';
import { TracedLogFormatter } from '#lib/logger';
import { currentTrace, traceFrom, withTrace } from '#lib/trace';
import { apiEvent, lambdaContext, sqsEvent, sqsRecord } from '../support/events';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const HEADER = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('W3C traceparent', () => {
  it('honours a valid header: same trace and flags, this hop as the new parent', () => {
    const trace = traceFrom(HEADER);
    expect(trace.traceId).toBe(TRACE_ID);
    expect(trace.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(trace.traceparent).not.toContain('00f067aa0ba902b7');
    expect(traceFrom(`00-${TRACE_ID}-00f067aa0ba902b7-00`).traceparent).toMatch(/-00$/);
  });

  it.each([
    ['absent', undefined],
    ['garbage', 'hello'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-00f067aa0ba902b7-01`],
    ['upper case', HEADER.toUpperCase()],
    ['a version 00 header with a fifth field', `${HEADER}-extra`],
  ])('starts a new trace when the header is %s', (_, header) => {
    const trace = traceFrom(header);
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.traceId).not.toBe(TRACE_ID);
    expect(trace.traceparent).toMatch(new RegExp(`^00-${trace.traceId}-[0-9a-f]{16}-01$`));
  });

  it('accepts a later version with more fields, as the spec asks', () => {
    expect(traceFrom(`01-${TRACE_ID}-00f067aa0ba902b7-01-more`).traceId).toBe(TRACE_ID);
  });
});

describe('trace_id on log lines', () => {
  const format = () =>
    new TracedLogFormatter().formatAttributes(
      { logLevel: 'INFO', message: 'm', timestamp: new Date(), serviceName: 's', sampleRateValue: 0, xRayTraceId: undefined } as never,
      { task_id: 't' },
    ).getAttributes();

  it('is on every line written inside a trace, and on none outside one', () => {
    expect(withTrace(traceFrom(HEADER), format)).toMatchObject({ trace_id: TRACE_ID, task_id: 't', message: 'm', level: 'INFO' });
    expect(format()).not.toHaveProperty('trace_id');
  });
});

describe('the handlers run in the trace of what they handle', () => {
  it('an API request in the trace of its traceparent header, whatever its case', async () => {
    let seen: string | undefined;
    const get = createGet({
      get: async () => {
        seen = currentTrace()?.traceId;
        throw new Error('stop here');
      },
      waitFor: async () => Promise.reject(new Error('not reached')),
    });
    await get(apiEvent({ pathParameters: { task_id: '3f1c0e7a-2c1b-4b8e-9d55-0c7f3d0f4a11' }, headers: { TraceParent: HEADER } }), lambdaContext());
    expect(seen).toBe(TRACE_ID);
  });

  it('each record of a batch in the trace its message carries, concurrently', async () => {
    const seen = new Map<string, string | undefined>();
    const handler = sqsBatchHandler(async (message) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.set(message.body, currentTrace()?.traceId);
    });
    const traced = sqsRecord('traced');
    traced.messageAttributes = { traceparent: { dataType: 'String', stringValue: HEADER, stringListValues: [], binaryListValues: [] } };
    await handler(sqsEvent([traced, sqsRecord('untraced')]), lambdaContext());
    expect(seen.get('traced')).toBe(TRACE_ID);
    expect(seen.get('untraced')).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.get('untraced')).not.toBe(TRACE_ID);
  });
});
