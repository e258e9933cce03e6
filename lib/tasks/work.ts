import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineTaskKind, DEFAULT_KIND } from './kind';
import { JsonValueSchema, SimulateSchema, simulationOf } from './model';

/** The failure `payload.simulate.fail_attempts` asks for. */
export class SimulatedFailureError extends Error {
  override readonly name = 'SimulatedFailureError';
  readonly code = 'SIMULATED_FAILURE';
}

/** With simulation on, a `payload.simulate` that is present must be of SimulateSchema's shape. */
const SimulatedPayloadSchema = JsonValueSchema.optional().superRefine((payload, ctx) => {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || !('simulate' in payload)) return;
  const parsed = SimulateSchema.safeParse(payload.simulate);
  for (const issue of parsed.error?.issues ?? []) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: ['simulate', ...issue.path], input: issue.input });
  }
});

/**
 * The built-in kind, and the default: waits `workMs`, then reports the size of the submitted
 * payload, which may be any JSON. With `simulation` on, the task's `payload.simulate` steers it: its
 * first `fail_attempts` attempts fail (after the work time, as a real failure would) and `work_ms`
 * replaces `workMs`.
 */
export function simulatedKind(workMs: number, { simulation = false }: { simulation?: boolean } = {}) {
  return defineTaskKind({
    name: DEFAULT_KIND,
    description: "The default: waits TASK_WORK_MS, then reports the payload's size. The payload is any JSON; with TASK_SIMULATION=on, `payload.simulate` steers it.",
    payload: simulation ? SimulatedPayloadSchema : JsonValueSchema.optional(),
    result: z.object({ payload_bytes: z.int().nonnegative() }),
    // Above the longest `simulate.work_ms` (20 s): the invocation's own budget stops it first.
    timeoutSeconds: 25,
    async run(payload, { attempt, signal }) {
      const simulate = simulation ? simulationOf(payload) : {};
      await sleep(simulate.work_ms ?? workMs, undefined, { signal });
      if (attempt <= (simulate.fail_attempts ?? 0)) {
        throw new SimulatedFailureError(`Simulated failure of attempt ${attempt} of ${simulate.fail_attempts}`);
      }
      return { payload_bytes: payload === undefined ? 0 : Buffer.byteLength(JSON.stringify(payload)) };
    },
  });
}
