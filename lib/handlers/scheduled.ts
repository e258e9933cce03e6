import type { Context } from 'aws-lambda';
import { invocationDeadline, withDeadline } from '#lib/deadline';
import { baseHandler } from './base';

/** A scheduled (EventBridge) handler: `run` ends its calls `reserveMs` before the function's timeout. */
export function scheduledHandler<Result>(reserveMs: number, run: () => Promise<Result>) {
  return baseHandler((_event: unknown, context: Context) => withDeadline(invocationDeadline(context, reserveMs), run));
}
