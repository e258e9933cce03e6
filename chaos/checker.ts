import type { AnswerEvent, CallbackCallEvent, FaultEvent, HistoryEvent, InvokeEvent, PublishedEvent, TaskState, WalkEvent } from './history';

/**
 * The service's promises, checked over a whole history (chaos/history.ts). Each violation names the
 * history lines (0-based) that show it. Pure: the same history always gives the same verdict.
 */
export const INVARIANTS = [
  'final-once',
  'cancel-wins',
  'monotonic',
  'completed-attempts',
  'failed-explained',
  'no-5xx',
  'idempotency',
  'batch-503-runs-none',
  'list-walk',
  'not-before-run-at',
  'one-final-event',
  'callback-settled',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Violation {
  invariant: Invariant;
  message: string;
  lines: number[];
}

export interface CheckOptions {
  /** How long after a fault window ends its effects may still show (SDK retries, backoffs, leases). */
  faultSlackMs: number;
  /** The stack's CALLBACK_MAX_ATTEMPTS: no callback is called more often. */
  callbackMaxAttempts?: number;
}

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED']);
const RANK: Record<string, number> = { PENDING: 0, PROCESSING: 1, COMPLETED: 2, FAILED: 2, CANCELED: 2 };

interface Observation {
  status: string;
  invokedAt: number;
  answeredAt: number;
  line: number;
}

export function checkHistory(events: HistoryEvent[], { faultSlackMs, callbackMaxAttempts = 8 }: CheckOptions): Violation[] {
  const violations: Violation[] = [];
  const violate = (invariant: Invariant, message: string, lines: number[]) => violations.push({ invariant, message, lines });

  const invokes = new Map<number, { event: InvokeEvent; line: number }>();
  const answers = new Map<number, { event: AnswerEvent; line: number }>();
  const faults: Array<{ event: FaultEvent; line: number }> = [];
  const walks: Array<{ event: WalkEvent; line: number }> = [];
  const finals = new Map<string, { task: TaskState; line: number }>();
  const published = new Map<string, Array<{ event: PublishedEvent; line: number }>>();
  const calls = new Map<string, Array<{ event: CallbackCallEvent; line: number }>>();
  const add = <T>(map: Map<string, T[]>, key: string, value: T) => map.set(key, [...(map.get(key) ?? []), value]);
  events.forEach((event, line) => {
    if (event.type === 'invoke') invokes.set(event.op, { event, line });
    else if (event.type === 'answer') answers.set(event.op, { event, line });
    else if (event.type === 'fault') faults.push({ event, line });
    else if (event.type === 'walk') walks.push({ event, line });
    else if (event.type === 'published') add(published, event.task_id, { event, line });
    else if (event.type === 'callback') add(calls, event.task_id, { event, line });
    else finals.set(event.task.task_id, { task: event.task, line });
  });
  const faultDuring = (from: number, to: number) => faults.find(({ event }) => event.from <= to && event.to + faultSlackMs >= from);

  // The tasks the service accepted, with what was asked of each and where.
  const accepted = new Map<string, { failAttempts: number; submitLine: number; answerLine: number; answeredAt: number }>();
  const observations = new Map<string, Observation[]>();
  const observe = (taskId: string, observation: Observation) => observations.set(taskId, [...(observations.get(taskId) ?? []), observation]);

  for (const [op, { event: invoke, line }] of invokes) {
    const answer = answers.get(op);
    if (!answer) continue;
    const { event: reply, line: answerLine } = answer;
    const body = reply.body as Record<string, unknown> | undefined;

    if (reply.status >= 500 && (reply.status !== 503 || !reply.retry_after)) {
      violate('no-5xx', `${invoke.kind} answered ${reply.status}${reply.status === 503 ? ' without Retry-After' : ''}`, [line, answerLine]);
    }
    if (reply.status === 503 && !faultDuring(invoke.at, reply.at)) {
      violate('no-5xx', `${invoke.kind} answered 503 outside every fault window`, [line, answerLine]);
    }

    if (reply.status === 202 && invoke.kind === 'submit' && typeof body?.task_id === 'string') {
      accepted.set(body.task_id, { failAttempts: invoke.fail_attempts?.[0] ?? 0, submitLine: line, answerLine, answeredAt: reply.at });
    }
    if (reply.status === 202 && invoke.kind === 'batch' && Array.isArray(body?.tasks)) {
      (body.tasks as Array<{ task_id: string }>).forEach((task, index) =>
        accepted.set(task.task_id, { failAttempts: invoke.fail_attempts?.[index] ?? 0, submitLine: line, answerLine, answeredAt: reply.at }),
      );
    }
    if ((invoke.kind === 'get' || invoke.kind === 'cancel') && reply.status === 200 && typeof body?.status === 'string' && invoke.task_id) {
      observe(invoke.task_id, { status: body.status, invokedAt: invoke.at, answeredAt: reply.at, line: answerLine });
    }
    if (invoke.kind === 'cancel' && reply.status === 200 && invoke.task_id) {
      const final = finals.get(invoke.task_id);
      if (final?.task.status !== 'CANCELED') {
        violate('cancel-wins', `cancel answered 200 but the task ended ${final?.task.status ?? 'unknown'}`, [line, answerLine, ...(final ? [final.line] : [])]);
      }
    }
    if (invoke.kind === 'batch' && reply.status === 503 && invoke.marker) {
      for (const { task, line: finalLine } of finals.values()) {
        // `<marker> <n>`: the space keeps batch 12's marker from matching batch 123's tasks.
        if (task.title.startsWith(`${invoke.marker} `) && (task.attempts > 0 || task.status !== 'FAILED')) {
          violate('batch-503-runs-none', `a task of a batch answered 503 ran: ${task.status}, attempts ${task.attempts}`, [line, answerLine, finalLine]);
        }
      }
    }
  }

  // One Idempotency-Key, one task.
  const byKey = new Map<string, Map<string, number[]>>();
  for (const [op, { event: invoke, line }] of invokes) {
    const reply = answers.get(op);
    const taskId = (reply?.event.body as { task_id?: string } | undefined)?.task_id;
    if (!invoke.idempotency_key || reply?.event.status !== 202 || !taskId) continue;
    const ids = byKey.get(invoke.idempotency_key) ?? new Map<string, number[]>();
    ids.set(taskId, [...(ids.get(taskId) ?? []), line, reply.line]);
    byKey.set(invoke.idempotency_key, ids);
  }
  for (const [key, ids] of byKey) {
    if (ids.size > 1) violate('idempotency', `Idempotency-Key ${key} yielded ${ids.size} tasks`, [...ids.values()].flat());
  }

  for (const [taskId, submitted] of accepted) {
    const final = finals.get(taskId);
    const where = [submitted.submitLine, submitted.answerLine, ...(final ? [final.line] : [])];
    if (!final || !FINAL.has(final.task.status) || final.task.attempts > 3) {
      violate('final-once', `task ${taskId} ended ${final ? `${final.task.status} after ${final.task.attempts} attempts` : 'missing'}`, where);
      continue;
    }
    const { task } = final;
    if (task.run_at && task.first_started_at && task.first_started_at < task.run_at) {
      violate('not-before-run-at', `task ${taskId} started at ${task.first_started_at}, before its run_at ${task.run_at}`, where);
    }
    const life = faultDuring(Date.parse(task.created_at), task.completed_at ? Date.parse(task.completed_at) : Number.MAX_SAFE_INTEGER);
    if (task.status === 'COMPLETED') {
      const expected = submitted.failAttempts + 1;
      const explained = life !== undefined && task.attempts > expected && task.attempts <= 3;
      if (task.attempts !== expected && !explained) violate('completed-attempts', `COMPLETED after ${task.attempts} attempts; fail_attempts ${submitted.failAttempts} asks for ${expected}`, where);
    }
    if (task.status === 'FAILED' && submitted.failAttempts < 3 && life === undefined) {
      violate('failed-explained', `FAILED (${task.error?.code ?? 'no error'}) with fail_attempts ${submitted.failAttempts} and no fault in its life`, where);
    }
    observe(taskId, { status: task.status, invokedAt: Number.MAX_SAFE_INTEGER, answeredAt: Number.MAX_SAFE_INTEGER, line: final.line });
  }

  // No status goes back, and nothing follows a final one: an answer given before another was asked
  // for cannot show a later state.
  for (const [taskId, seen] of observations) {
    for (const earlier of seen) {
      for (const later of seen) {
        if (earlier.answeredAt >= later.invokedAt) continue;
        const back = RANK[later.status]! < RANK[earlier.status]!;
        const afterFinal = FINAL.has(earlier.status) && later.status !== earlier.status;
        if (back || afterFinal) violate('monotonic', `task ${taskId} was ${earlier.status}, then ${later.status}`, [earlier.line, later.line]);
      }
    }
  }

  // Each final status is published, once, and nothing else is: a second delivery of the same event
  // (at least once) only where a fault stopped a writer between its publish and its mark's removal.
  for (const { task, line } of finals.values()) {
    const told = published.get(task.task_id) ?? [];
    const lines = [line, ...told.map((entry) => entry.line)];
    const ids = new Set(told.map(({ event }) => event.event_id));
    if (!FINAL.has(task.status)) {
      if (told.length > 0) violate('one-final-event', `task ${task.task_id} is ${task.status}, yet an event was published for it`, lines);
      continue;
    }
    const expected = `${task.task_id}:${task.status}`;
    if (ids.size !== 1 || !ids.has(expected) || told.some(({ event }) => event.status !== task.status)) {
      violate('one-final-event', `task ${task.task_id} ended ${task.status}; events published for it: ${[...ids].join(', ') || 'none'}`, lines);
    } else if (told.length > 1 && !faultDuring(Date.parse(task.created_at), task.completed_at ? Date.parse(task.completed_at) : Number.MAX_SAFE_INTEGER)) {
      violate('one-final-event', `task ${task.task_id}: its event was published ${told.length} times with no fault in its life`, lines);
    }
  }
  for (const [taskId, told] of published) {
    if (!finals.has(taskId)) violate('one-final-event', `an event was published for ${taskId}, a task this run did not create`, told.map((entry) => entry.line));
  }

  // A final task's callback ends DELIVERED or GAVE_UP, within its attempts; every call carries its final event, signed.
  for (const { task, line } of finals.values()) {
    if (!task.callback_url || !FINAL.has(task.status)) continue;
    const received = calls.get(task.task_id) ?? [];
    const lines = [line, ...received.map((entry) => entry.line)];
    if (task.callback_state !== 'DELIVERED' && task.callback_state !== 'GAVE_UP') {
      violate('callback-settled', `task ${task.task_id} ended ${task.status}, its callback is still ${task.callback_state}`, lines);
    }
    if ((task.callback_attempts ?? 0) > callbackMaxAttempts || received.length > callbackMaxAttempts) {
      violate('callback-settled', `task ${task.task_id}: ${task.callback_attempts} callback attempts recorded, ${received.length} calls received; at most ${callbackMaxAttempts}`, lines);
    }
    const wrong = received.filter(({ event }) => !event.signature_valid || event.status !== task.status || event.event_id !== `${task.task_id}:${task.status}`);
    if (wrong.length > 0) violate('callback-settled', `task ${task.task_id}: ${wrong.length} callback call(s) unsigned or telling another status`, lines);
    if (task.callback_state === 'DELIVERED' && received.length === 0) violate('callback-settled', `task ${task.task_id}: callback DELIVERED, but the receiver got no call`, lines);
  }

  // A walk without a filter lists exactly once every task accepted before it began; any walk lists a task at most once.
  for (const { event: walk, line } of walks) {
    const counts = new Map<string, number>();
    for (const id of walk.listed) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, count] of counts) if (count > 1) violate('list-walk', `walk ${walk.walk} listed ${id} ${count} times`, [line]);
    if (walk.status) continue;
    for (const [taskId, submitted] of accepted) {
      if (submitted.answeredAt < walk.from && !counts.has(taskId)) {
        violate('list-walk', `walk ${walk.walk} missed ${taskId}, accepted before it began`, [submitted.answerLine, line]);
      }
    }
  }
  return violations;
}
