import { checkHistory, INVARIANTS, type Invariant } from '../../chaos/checker';
import type { HistoryEvent, TaskState } from '../../chaos/history';

/**
 * The checker catches each kind of violation: a clean history passes, and the same history with
 * one violation planted is reported under that invariant (a checker that cannot fail proves nothing).
 */
const T0 = Date.parse('2026-11-30T00:00:00.000Z');
const at = (seconds: number) => T0 + seconds * 1000;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const task = (n: number, status: string, attempts: number, extra: Partial<TaskState> = {}): TaskState => ({
  task_id: ID(n),
  title: `chaos ${n}`,
  status,
  attempts,
  error: status === 'FAILED' ? { code: 'PROCESSING_FAILED' } : null,
  created_at: iso(n),
  completed_at: status === 'PENDING' || status === 'PROCESSING' ? null : iso(n + 5),
  ...extra,
});

/** Three tasks: 1 completes once its delay is over, 2 completes after one failure, 3 is canceled; a walk; a 503 batch during a fault. */
function cleanHistory(): HistoryEvent[] {
  return [
    { type: 'invoke', op: 1, client: 0, kind: 'submit', at: at(1), fail_attempts: [0], idempotency_key: 'k1' },
    { type: 'answer', op: 1, at: at(1.1), status: 202, body: { task_id: ID(1), status: 'PENDING' } },
    { type: 'invoke', op: 2, client: 0, kind: 'submit', at: at(1.2), fail_attempts: [0], idempotency_key: 'k1' },
    { type: 'answer', op: 2, at: at(1.3), status: 202, body: { task_id: ID(1), status: 'PENDING' } },
    { type: 'invoke', op: 3, client: 1, kind: 'batch', at: at(2), fail_attempts: [1, 0], marker: 'chaos batch 3' },
    { type: 'answer', op: 3, at: at(2.1), status: 202, body: { tasks: [{ task_id: ID(2) }, { task_id: ID(3) }] } },
    { type: 'invoke', op: 4, client: 1, kind: 'get', at: at(3), task_id: ID(2) },
    { type: 'answer', op: 4, at: at(3.1), status: 200, body: { task_id: ID(2), status: 'PROCESSING' } },
    { type: 'invoke', op: 5, client: 1, kind: 'cancel', at: at(3.2), task_id: ID(3) },
    { type: 'answer', op: 5, at: at(3.3), status: 200, body: { task_id: ID(3), status: 'CANCELED' } },
    { type: 'fault', kind: 'dynamodb-5xx', from: at(10), to: at(12) },
    { type: 'invoke', op: 6, client: 2, kind: 'batch', at: at(11), fail_attempts: [0], marker: 'chaos batch 6' },
    { type: 'answer', op: 6, at: at(11.5), status: 503, retry_after: '5', body: { error: { code: 'SERVICE_UNAVAILABLE' } } },
    { type: 'walk', walk: 1, from: at(4), to: at(5), listed: [ID(3), ID(2), ID(1)] },
    { type: 'invoke', op: 7, client: 2, kind: 'get', at: at(20), task_id: ID(2) },
    { type: 'answer', op: 7, at: at(20.1), status: 200, body: { task_id: ID(2), status: 'COMPLETED' } },
    // Task 1 was delayed to 3 s and started on time.
    { type: 'final', task: task(1, 'COMPLETED', 1, { run_at: iso(3), first_started_at: iso(3.5) }) },
    { type: 'final', task: task(2, 'COMPLETED', 2) },
    { type: 'final', task: task(3, 'CANCELED', 0, { callback_url: 'http://127.0.0.1:9/ok/3', callback_state: 'DELIVERED', callback_attempts: 1 }) },
    { type: 'final', task: { ...task(11, 'FAILED', 0, { error: { code: 'BATCH_NOT_ACCEPTED' } }), title: 'chaos batch 6 0' } },
    // 20: each final status published once; task 3's callback called once, signed.
    { type: 'published', event_id: `${ID(1)}:COMPLETED`, task_id: ID(1), status: 'COMPLETED' },
    { type: 'published', event_id: `${ID(2)}:COMPLETED`, task_id: ID(2), status: 'COMPLETED' },
    { type: 'published', event_id: `${ID(3)}:CANCELED`, task_id: ID(3), status: 'CANCELED' },
    { type: 'published', event_id: `${ID(11)}:FAILED`, task_id: ID(11), status: 'FAILED' },
    { type: 'callback', event_id: `${ID(3)}:CANCELED`, task_id: ID(3), status: 'CANCELED', signature_valid: true },
  ];
}

const check = (events: HistoryEvent[]) => checkHistory(events, { faultSlackMs: 5_000 });
const replace = (events: HistoryEvent[], index: number, event: HistoryEvent) => events.map((e, i) => (i === index ? event : e));

const planted: Array<[Invariant, string, (events: HistoryEvent[]) => HistoryEvent[]]> = [
  ['final-once', 'a task accepted and never finished', (h) => replace(h, 16, { type: 'final', task: task(1, 'PROCESSING', 1) })],
  ['final-once', 'a task after 4 attempts', (h) => replace(h, 17, { type: 'final', task: task(2, 'COMPLETED', 4) })],
  ['cancel-wins', 'a cancel answered 200 and the task COMPLETED', (h) => replace(h, 18, { type: 'final', task: task(3, 'COMPLETED', 1) })],
  ['monotonic', 'COMPLETED seen, then PROCESSING', (h) => [...h, { type: 'invoke', op: 8, client: 0, kind: 'get', at: at(21), task_id: ID(2) }, { type: 'answer', op: 8, at: at(21.1), status: 200, body: { status: 'PROCESSING' } }]],
  ['completed-attempts', 'COMPLETED at attempt 1 with fail_attempts 1', (h) => replace(h, 17, { type: 'final', task: task(2, 'COMPLETED', 1) })],
  ['failed-explained', 'FAILED with fail_attempts 0 and no fault', (h) => replace(h, 16, { type: 'final', task: task(1, 'FAILED', 3) })],
  ['no-5xx', 'a 500', (h) => replace(h, 7, { type: 'answer', op: 4, at: at(3.1), status: 500, body: {} })],
  ['no-5xx', 'a 503 without Retry-After', (h) => replace(h, 12, { type: 'answer', op: 6, at: at(11.5), status: 503, body: {} })],
  ['no-5xx', 'a 503 outside every fault window', (h) => replace(h, 7, { type: 'answer', op: 4, at: at(3.1), status: 503, retry_after: '5', body: {} })],
  ['idempotency', 'one key, two tasks', (h) => replace(h, 3, { type: 'answer', op: 2, at: at(1.3), status: 202, body: { task_id: ID(9) } })],
  ['batch-503-runs-none', 'a task of a 503 batch ran', (h) => replace(h, 19, { type: 'final', task: { ...task(11, 'COMPLETED', 1), title: 'chaos batch 6 0' } })],
  ['list-walk', 'a walk listing a task twice', (h) => replace(h, 13, { type: 'walk', walk: 1, from: at(4), to: at(5), listed: [ID(3), ID(2), ID(2), ID(1)] })],
  ['not-before-run-at', 'a delayed task started before its run_at', (h) => replace(h, 16, { type: 'final', task: task(1, 'COMPLETED', 1, { run_at: iso(3), first_started_at: iso(2.999) }) })],
  ['one-final-event', 'a final task whose event was never published', (h) => h.filter((_, i) => i !== 21)],
  ['one-final-event', 'an event of a status the task did not reach', (h) => replace(h, 22, { type: 'published', event_id: `${ID(3)}:COMPLETED`, task_id: ID(3), status: 'COMPLETED' })],
  ['one-final-event', 'an event published twice with no fault in the task’s life', (h) => [...h, { type: 'published', event_id: `${ID(1)}:COMPLETED`, task_id: ID(1), status: 'COMPLETED' }]],
  ['one-final-event', 'an event for an unfinished task', (h) => [...replace(h, 16, { type: 'final', task: task(1, 'PROCESSING', 1) })]],
  ['callback-settled', 'a final task’s callback still PENDING', (h) => replace(h, 18, { type: 'final', task: task(3, 'CANCELED', 0, { callback_url: 'http://127.0.0.1:9/ok/3', callback_state: 'PENDING', callback_attempts: 3 }) })],
  ['callback-settled', 'a callback call whose signature does not verify', (h) => replace(h, 24, { type: 'callback', event_id: `${ID(3)}:CANCELED`, task_id: ID(3), status: 'CANCELED', signature_valid: false })],
  ['callback-settled', 'more callback attempts than allowed', (h) => replace(h, 18, { type: 'final', task: task(3, 'CANCELED', 0, { callback_url: 'http://127.0.0.1:9/ok/3', callback_state: 'GAVE_UP', callback_attempts: 9 }) })],
  ['callback-settled', 'more callback calls than allowed', (h) => [...h, ...Array.from({ length: 8 }, () => ({ type: 'callback' as const, event_id: `${ID(3)}:CANCELED`, task_id: ID(3), status: 'CANCELED', signature_valid: true }))]],
  ['list-walk', 'a walk missing a task accepted before it', (h) => replace(h, 13, { type: 'walk', walk: 1, from: at(4), to: at(5), listed: [ID(3), ID(1)] })],
];

describe('the chaos history checker', () => {
  it('finds nothing wrong in a clean history', () => {
    expect(check(cleanHistory())).toEqual([]);
  });

  it.each(planted)('catches %s: %s', (invariant, _, plant) => {
    const found = check(plant(cleanHistory()));
    expect(found.map((v) => v.invariant)).toContain(invariant);
    for (const violation of found) expect(violation.lines.length).toBeGreaterThan(0);
  });

  it('tells the tasks of batch 6 from those of batch 66', () => {
    const history = cleanHistory();
    history.push({ type: 'final', task: { ...task(12, 'COMPLETED', 1), title: 'chaos batch 66 0' } });
    history.push({ type: 'published', event_id: `${ID(12)}:COMPLETED`, task_id: ID(12), status: 'COMPLETED' });
    expect(check(history)).toEqual([]);
  });

  it('has a planted violation for every invariant', () => {
    expect(new Set(planted.map(([invariant]) => invariant))).toEqual(new Set(INVARIANTS));
  });

  it('lets a fault explain an extra attempt or a FAILED task', () => {
    const history = cleanHistory();
    history.push({ type: 'fault', kind: 'killed-invocation', from: at(1.5), to: at(2.5) });
    let planted = replace(history, 16, { type: 'final', task: task(1, 'COMPLETED', 2) });
    planted = replace(planted, 17, { type: 'final', task: task(2, 'FAILED', 3) });
    planted = replace(planted, 21, { type: 'published', event_id: `${ID(2)}:FAILED`, task_id: ID(2), status: 'FAILED' });
    // The fault in its life also explains a second delivery of task 1's event.
    planted.push({ type: 'published', event_id: `${ID(1)}:COMPLETED`, task_id: ID(1), status: 'COMPLETED' });
    planted = replace(planted, 15, { type: 'answer', op: 7, at: at(20.1), status: 200, body: { task_id: ID(2), status: 'PROCESSING' } });
    const found = check(planted);
    expect(found).toEqual([]);
  });
});
