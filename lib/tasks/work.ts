import { setTimeout as sleep } from 'node:timers/promises';
import { simulationOf, type Task } from './model';

/** The work a task stands for; it must stop promptly when `signal` aborts (the task was canceled). */
export type TaskWork = (task: Task, signal: AbortSignal) => Promise<unknown>;

/** The failure `payload.simulate.fail_attempts` asks for. */
export class SimulatedFailureError extends Error {
  override readonly name = 'SimulatedFailureError';
  readonly code = 'SIMULATED_FAILURE';
}

/**
 * The simulated job: waits `workMs`, then reports the size of the submitted payload. With
 * `simulation` on, the task's `payload.simulate` steers it: its first `fail_attempts` attempts fail
 * (after the work time, as a real failure would) and `work_ms` replaces `workMs`.
 */
export function simulatedWork(workMs: number, { simulation = false }: { simulation?: boolean } = {}): TaskWork {
  return async (task, signal) => {
    const simulate = simulation ? simulationOf(task.payload) : {};
    await sleep(simulate.work_ms ?? workMs, undefined, { signal });
    if (task.attempts <= (simulate.fail_attempts ?? 0)) {
      throw new SimulatedFailureError(`Simulated failure of attempt ${task.attempts} of ${simulate.fail_attempts}`);
    }
    const payloadBytes = task.payload === undefined ? 0 : Buffer.byteLength(JSON.stringify(task.payload));
    return { payload_bytes: payloadBytes };
  };
}
