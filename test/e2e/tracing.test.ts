import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { eventually, stackEnv } from '../support/stack-env';

const { apiUrl } = stackEnv();
const logFile = process.env.TEST_STACK_LOG;

/** The stack's log lines (JSON) that name a task; the embedded stack logs at WARN and up. */
const linesOf = (taskId: string) =>
  (existsSync(logFile!) ? readFileSync(logFile!, 'utf8') : '')
    .split('\n')
    .filter((line) => line.includes(taskId) && line.startsWith('{'))
    .map((line) => JSON.parse(line) as { message: string; trace_id?: string });

// The log file is the embedded stack's; against LocalStack the logs are in its CloudWatch Logs.
(logFile ? describe : describe.skip)('a traceparent through the task’s whole life (embedded stack)', () => {
  it('puts the trace id of the submit on the processor’s log lines of that task, carried by the queue message', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${apiUrl}/tasks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      // The first attempt fails: the processor logs it at WARN, in the task's trace.
      body: JSON.stringify({ title: 'traced', description: 'd', payload: { simulate: { fail_attempts: 1, work_ms: 10 } } }),
    });
    expect(response.status).toBe(202);
    const { task_id } = (await response.json()) as { task_id: string };
    const lines = await eventually(async () => {
      const found = linesOf(task_id).filter((line) => line.message.startsWith('Task processing failed'));
      return found.length > 0 ? found : undefined;
    });
    for (const line of lines) expect(line.trace_id).toBe(traceId);
    await eventually(async () => {
      const task = (await (await fetch(`${apiUrl}/tasks/${task_id}`)).json()) as { status: string };
      return task.status === 'COMPLETED' ? task : undefined;
    });
  });
});

describe('a task’s trace id and attempts, as GET answers them', () => {
  it('names the submit’s trace and every attempt: the one that failed, with why, and the one that completed', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${apiUrl}/tasks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ title: 'two attempts', description: 'd', payload: { simulate: { fail_attempts: 1, work_ms: 10 } } }),
    });
    const { task_id } = (await response.json()) as { task_id: string };
    type Attempt = { attempt: number; started_at: string; ended_at: string | null; outcome: string; error: { code: string } | null };
    const task = await eventually(async () => {
      const body = (await (await fetch(`${apiUrl}/tasks/${task_id}`)).json()) as { status: string; trace_id: string; attempt_history: Attempt[] };
      return body.status === 'COMPLETED' ? body : undefined;
    });
    expect(task.trace_id).toBe(traceId);
    expect(task.attempt_history.map(({ attempt, outcome }) => [attempt, outcome])).toEqual([
      [1, 'FAILED'],
      [2, 'COMPLETED'],
    ]);
    expect(task.attempt_history[0]?.error?.code).toBe('SIMULATED_FAILURE');
    for (const attempt of task.attempt_history) expect(Date.parse(attempt.ended_at!)).toBeGreaterThanOrEqual(Date.parse(attempt.started_at));
    // A list shows the trace, not the history (that is for the task's own page). Suites run one at a
    // time, so the newest 100 hold this task.
    const page = (await (await fetch(`${apiUrl}/tasks?limit=100`)).json()) as { tasks: Array<Record<string, unknown>> };
    const summary = page.tasks.find((listed) => listed.task_id === task_id);
    expect(summary).toMatchObject({ trace_id: traceId });
    expect(summary).not.toHaveProperty('attempt_history');
  });
});
