import type { TaskStatus } from './model';

/** The contract's status machine: the only moves a task may make. Final statuses have none. */
export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  PENDING: ['PROCESSING', 'CANCELED', 'FAILED'],
  PROCESSING: ['COMPLETED', 'FAILED', 'CANCELED'],
  COMPLETED: [],
  FAILED: [],
  CANCELED: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isFinal(status: TaskStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Every status a task may be in for a move to `to` to be allowed: the condition of that move's write. */
export function sourcesOf(to: TaskStatus): TaskStatus[] {
  return (Object.keys(TRANSITIONS) as TaskStatus[]).filter((from) => canTransition(from, to));
}
