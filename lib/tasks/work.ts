import { setTimeout as sleep } from 'node:timers/promises';
import type { Task } from './model';

/** The work a task stands for; it must stop promptly when `signal` aborts (the task was canceled). */
export type TaskWork = (task: Task, signal: AbortSignal) => Promise<unknown>;

/** The simulated job: waits `workMs`, then reports the size of the submitted payload. */
export function simulatedWork(workMs: number): TaskWork {
  return async (task, signal) => {
    await sleep(workMs, undefined, { signal });
    const payloadBytes = task.payload === undefined ? 0 : Buffer.byteLength(JSON.stringify(task.payload));
    return { payload_bytes: payloadBytes };
  };
}
