import { TASK_STATUSES, type TaskStatus } from '#lib/tasks/model';
import { canTransition, isFinal, sourcesOf, TRANSITIONS } from '#lib/tasks/transitions';

const ALLOWED: ReadonlyArray<[TaskStatus, TaskStatus]> = [
  ['PENDING', 'PROCESSING'],
  ['PENDING', 'CANCELED'],
  ['PENDING', 'FAILED'],
  ['PROCESSING', 'COMPLETED'],
  ['PROCESSING', 'FAILED'],
  ['PROCESSING', 'CANCELED'],
];
const isAllowed = (from: TaskStatus, to: TaskStatus) => ALLOWED.some(([f, t]) => f === from && t === to);
const ALL_PAIRS = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as [TaskStatus, TaskStatus]));

describe('status transitions', () => {
  it.each(ALL_PAIRS.filter(([from, to]) => isAllowed(from, to)))('%s -> %s is allowed', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(ALL_PAIRS.filter(([from, to]) => !isAllowed(from, to)))('%s -> %s is refused', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it('covers every status, and only the contract\'s moves', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...TASK_STATUSES].sort());
    expect(ALL_PAIRS.filter(([from, to]) => canTransition(from, to))).toHaveLength(ALLOWED.length);
  });

  it.each([
    ['PENDING', false],
    ['PROCESSING', false],
    ['COMPLETED', true],
    ['FAILED', true],
    ['CANCELED', true],
  ] as const)('%s is final: %s', (status, final) => {
    expect(isFinal(status)).toBe(final);
  });

  it.each([
    ['PENDING', []],
    ['PROCESSING', ['PENDING']],
    ['COMPLETED', ['PROCESSING']],
    ['FAILED', ['PENDING', 'PROCESSING']],
    ['CANCELED', ['PENDING', 'PROCESSING']],
  ] as const)('a move to %s is allowed only from %j', (to, sources) => {
    expect(sourcesOf(to)).toEqual(sources);
  });
});
