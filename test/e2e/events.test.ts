import { randomUUID } from 'node:crypto';
import { verifyCallback } from '#lib/tasks/callback-delivery';
import { startCallbackReceiver } from '../../local/callback-receiver';
import { startEventTap, type EventTap } from '../support/published-events';
import { eventually, stackEnv, testTimeoutMs, waitMs } from '../support/stack-env';

const { apiUrl, onEmbeddedStack } = stackEnv();
/** What the stage signs callbacks with: the stack's environment carries it (serverless.yml, custom.localSigningSecret). */
const SIGNING_SECRET = process.env.CALLBACK_SIGNING_SECRET!;
const maxAttempts = Number(process.env.TEST_CALLBACK_MAX_ATTEMPTS ?? 8);

type CallbackAttempt = { attempt: number; status_code: number | null; error: string | null };
type Task = {
  task_id: string;
  status: string;
  kind: string;
  trace_id: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  canceled_at: string | null;
  updated_at: string;
  attempts: number;
  error: { code: string } | null;
  callback_url: string | null;
  callback_state: string | null;
  callback_attempts: CallbackAttempt[];
};

async function post(path: string, body: unknown) {
  const response = await fetch(`${apiUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { task_id: string; error: { code: string; details: Array<{ path: string; message: string }> } } };
}
const get = async (id: string) => (await (await fetch(`${apiUrl}/tasks/${id}`)).json()) as Task;
const finalOf = (id: string) =>
  eventually(async () => {
    const task = await get(id);
    return ['COMPLETED', 'FAILED', 'CANCELED'].includes(task.status) ? task : undefined;
  });
const submit = async (extra: object = {}, simulate: object = { work_ms: 10 }) => {
  const submitted = await post('/tasks', { title: 'told', description: 'tells when it ends', payload: { simulate }, ...extra });
  expect(submitted.status).toBe(202);
  return submitted.body.task_id;
};

let tap: EventTap;
beforeAll(async () => {
  tap = await startEventTap();
});
afterAll(() => tap.stop());

/** The task's events once one is there, and a moment later: a second one (a duplicate, or another status) would be seen too. */
async function eventsOnceThere(taskId: string) {
  await eventually(async () => ((await tap.eventsOf(taskId)).length > 0 ? true : undefined));
  return tap.eventsOf(taskId);
}

describe('completion events', () => {
  it('publishes one event for a completed task: its id, kind, status, timestamps and trace id, and not its payload', async () => {
    const taskId = await submit();
    const task = await finalOf(taskId);
    expect(task.status).toBe('COMPLETED');
    const events = await eventsOnceThere(taskId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'task-service', detail_type: 'Task Completed' });
    expect(events[0]!.detail).toEqual({
      event_id: `${taskId}:COMPLETED`,
      type: 'task.completed',
      task_id: taskId,
      kind: task.kind,
      status: 'COMPLETED',
      priority: 'normal',
      attempts: 1,
      error: null,
      created_at: task.created_at,
      started_at: task.started_at,
      ended_at: task.completed_at,
      run_at: null,
      retry_of: null,
      trace_id: task.trace_id,
    });
  }, testTimeoutMs(waitMs() + 10_000));

  it('publishes CANCELED for a task canceled before it starts, and never an event of a status it did not reach', async () => {
    const taskId = await submit({ delay_seconds: 3_600 });
    expect((await post(`/tasks/${taskId}/cancel`, {})).status).toBe(200);
    const events = await eventsOnceThere(taskId);
    expect(events.map((event) => [event.detail_type, event.detail.status])).toEqual([['Task Canceled', 'CANCELED']]);
    expect(events[0]!.detail).toMatchObject({ started_at: null, attempts: 0, ended_at: (await get(taskId)).canceled_at });
  }, testTimeoutMs(waitMs() + 10_000));

  it('publishes FAILED, with the error, for a task whose attempts all failed', async () => {
    const taskId = await submit({}, { fail_attempts: 3, work_ms: 10 });
    const task = await finalOf(taskId);
    expect(task.status).toBe('FAILED');
    const events = await eventsOnceThere(taskId);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ status: 'FAILED', type: 'task.failed', error: task.error, attempts: task.attempts });
  }, testTimeoutMs(waitMs() * 2));

  // The local bus refuses a task's entries on request: a writer that cannot publish, as EventBridge failing would make it.
  (onEmbeddedStack ? it : it.skip)('relays the event of a task whose writer could not publish it, once', async () => {
    const bus = process.env.TEST_EVENT_BUS_ENDPOINT!;
    // Due in 2 s: the refusal is in place before it can start, let alone end.
    const taskId = await submit({ delay_seconds: 2 });
    await fetch(`${bus}/refusals`, { method: 'POST', body: JSON.stringify({ task_id: taskId }) });
    expect((await finalOf(taskId)).status).toBe('COMPLETED');
    await eventually(async () => (((await (await fetch(`${bus}/refusals/${taskId}`)).json()) as { refused: number }).refused > 0 ? true : undefined));
    expect(await tap.eventsOf(taskId)).toEqual([]);
    await fetch(`${bus}/refusals/${taskId}`, { method: 'DELETE' });
    const events = await eventsOnceThere(taskId);
    expect(events.map((event) => event.detail.event_id)).toEqual([`${taskId}:COMPLETED`]);
  }, testTimeoutMs(waitMs() * 2));
});

// The receiver listens on this machine's loopback, which LocalStack's function containers do not share.
(onEmbeddedStack ? describe : describe.skip)('callbacks', () => {
  let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;
  beforeAll(async () => {
    receiver = await startCallbackReceiver();
  });
  afterAll(() => receiver.stop());
  const callbackEnded = (taskId: string) =>
    eventually(async () => {
      const task = await get(taskId);
      return task.callback_state === 'DELIVERED' || task.callback_state === 'GAVE_UP' ? task : undefined;
    });

  it('POSTs the completion event to callback_url, signed with the stage secret, and records the attempt', async () => {
    const path = `/ok/${randomUUID()}`;
    const taskId = await submit({ callback_url: receiver.url(path) });
    expect((await get(taskId)).callback_state).toBe('PENDING');
    const task = await callbackEnded(taskId);
    expect(task).toMatchObject({ callback_state: 'DELIVERED', callback_url: receiver.url(path) });
    expect(task.callback_attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error: null })]);
    const [call, ...more] = receiver.calls(path);
    expect(more).toEqual([]);
    const [event] = await tap.eventsOf(taskId);
    expect(JSON.parse(call!.body)).toEqual(event!.detail);
    expect(call!.headers['x-task-event-id']).toBe(`${taskId}:COMPLETED`);
    const signed = { body: call!.body, signature: String(call!.headers['x-task-signature']), timestamp: String(call!.headers['x-task-timestamp']) };
    expect(verifyCallback(SIGNING_SECRET, signed)).toBe(true);
    expect(verifyCallback('another-secret-of-16-chars', signed)).toBe(false);
    expect(verifyCallback(SIGNING_SECRET, { ...signed, body: call!.body.replace('COMPLETED', 'FAILED') })).toBe(false);
  }, testTimeoutMs(waitMs() + 10_000));

  it('retries a callback that fails, with backoff, until it is answered with a 2xx', async () => {
    const path = `/flaky/2/${randomUUID()}`;
    const taskId = await submit({ callback_url: receiver.url(path) });
    const task = await callbackEnded(taskId);
    expect(task.callback_state).toBe('DELIVERED');
    expect(task.callback_attempts.map((attempt) => [attempt.attempt, attempt.status_code])).toEqual([[1, 500], [2, 500], [3, 200]]);
    expect(task.callback_attempts[0]!.error).toBe('answered 500');
    expect(receiver.calls(path)).toHaveLength(3);
  }, testTimeoutMs(waitMs() + 10_000));

  it('gives up after CALLBACK_MAX_ATTEMPTS calls, each recorded, and calls no more', async () => {
    const path = `/down/${randomUUID()}`;
    const taskId = await submit({ callback_url: receiver.url(path) });
    const task = await callbackEnded(taskId);
    expect(task.callback_state).toBe('GAVE_UP');
    expect(task.callback_attempts.map((attempt) => attempt.status_code)).toEqual(Array(maxAttempts).fill(500));
    expect(receiver.calls(path)).toHaveLength(maxAttempts);
  }, testTimeoutMs(waitMs() + 20_000));
});

describe('callback_url at submit', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', /linkLocal address/],
    ['http://10.1.2.3/hook', /private address/],
    ['http://[fd00::1]/hook', /uniqueLocal address/],
    ['http://[::ffff:169.254.169.254]/hook', /linkLocal address/],
    ['ftp://hooks.example.com/', /http or https URL/],
    ['https://user:secret@hooks.example.com/', /credentials/],
    ['not a url', /http or https URL/],
  ])('refuses %s with a 400 at callback_url', async (callbackUrl, message) => {
    const answer = await post('/tasks', { title: 'x', description: 'y', callback_url: callbackUrl });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_ERROR');
    expect(answer.body.error.details).toEqual([expect.objectContaining({ path: 'callback_url', message: expect.stringMatching(message) })]);
  });

  it('refuses a whole batch for one bad callback_url, naming that task’s field', async () => {
    const answer = await post('/tasks/batch', {
      tasks: [
        { title: 'fine', description: 'fine', callback_url: 'https://hooks.example.com/ok' },
        { title: 'bad', description: 'bad', callback_url: 'http://192.168.0.1/' },
      ],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([expect.objectContaining({ path: 'tasks.1.callback_url' })]);
  });
});
