import { attemptHistoryOf, completedEvent, failedEvent, startedEvent, type TaskItem } from '#lib/aws/task-item';
import { MAX_ATTEMPT_ERROR_LENGTH } from '#lib/tasks/model';

const at = (second: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, second));
const iso = (second: number) => at(second).toISOString();
const boom = { code: 'PROCESSING_FAILED', message: 'boom' };

type Stored = Pick<TaskItem, 'attempt_log' | 'attempts' | 'status'>;

describe('the attempt history a task item’s log tells of', () => {
  it('pairs each start with the end its attempt reported, oldest first', () => {
    const item: Stored = {
      status: 'COMPLETED',
      attempts: 2,
      attempt_log: [startedEvent(at(1)), failedEvent(1, at(2), boom), startedEvent(at(5)), completedEvent(2, at(8))],
    };
    expect(attemptHistoryOf(item)).toEqual([
      { attempt: 1, started_at: iso(1), ended_at: iso(2), outcome: 'FAILED', error: boom },
      { attempt: 2, started_at: iso(5), ended_at: iso(8), outcome: 'COMPLETED', error: null },
    ]);
  });

  it('says RUNNING of the latest attempt of a PROCESSING task, ABANDONED of one a later attempt took over', () => {
    const item: Stored = { status: 'PROCESSING', attempts: 2, attempt_log: [startedEvent(at(1)), startedEvent(at(40))] };
    expect(attemptHistoryOf(item).map(({ attempt, outcome, ended_at }) => [attempt, outcome, ended_at])).toEqual([
      [1, 'ABANDONED', null],
      [2, 'RUNNING', null],
    ]);
  });

  it('says CANCELED of the attempt a cancel stopped, and ABANDONED of a last attempt the dead-letter consumer failed', () => {
    expect(attemptHistoryOf({ status: 'CANCELED', attempts: 1, attempt_log: [startedEvent(at(1))] })[0]?.outcome).toBe('CANCELED');
    expect(attemptHistoryOf({ status: 'FAILED', attempts: 1, attempt_log: [startedEvent(at(1))] })[0]?.outcome).toBe('ABANDONED');
  });

  it('numbers the starts as the task’s latest attempts when earlier ones ran before the log was kept', () => {
    const item: Stored = { status: 'COMPLETED', attempts: 3, attempt_log: [startedEvent(at(1)), completedEvent(3, at(2))] };
    expect(attemptHistoryOf(item)).toEqual([{ attempt: 3, started_at: iso(1), ended_at: iso(2), outcome: 'COMPLETED', error: null }]);
  });

  it('is empty for a task never started, or stored before the log was kept', () => {
    expect(attemptHistoryOf({ status: 'PENDING', attempts: 0 })).toEqual([]);
    expect(attemptHistoryOf({ status: 'COMPLETED', attempts: 1 })).toEqual([]);
  });

  it('keeps an attempt’s error message short: the item every status write is billed by holds it', () => {
    const event = failedEvent(1, at(1), { code: 'X', message: 'y'.repeat(5_000) });
    expect(event.event === 'failed' && event.error.message.length).toBe(MAX_ATTEMPT_ERROR_LENGTH);
  });
});
