import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { createHandler as createSubmit } from '#functions/submit';
import { createHandler as createSubmitBatch } from '#functions/submit-batch';
import { checksum } from '#kinds/checksum';
import { compress } from '#kinds/compress';
import { MAX_RESULT_BYTES } from '#lib/tasks/attempt';
import { createKindRegistry, defineTaskKind, DEFAULT_KIND, PermanentTaskError, type AnyTaskKind, type RunContext } from '#lib/tasks/kind';
import { newTask, type SubmitTaskInput } from '#lib/tasks/model';
import { createTaskProcessor } from '#lib/tasks/processing';
import { createTaskService } from '#lib/tasks/service';
import { simulatedKind } from '#lib/tasks/work';
import { jsonPost, lambdaContext } from '../support/events';
import { InMemoryTaskQueue, InMemoryTaskStore, ManualClock, silentLogger } from '../support/fakes';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A kind for one test: any payload, any result, the given settings and work. */
const testKind = (name: string, run: (payload: unknown, context: RunContext) => Promise<unknown>, settings: Partial<AnyTaskKind> = {}) =>
  defineTaskKind({ name, description: name, payload: z.unknown(), result: z.unknown(), timeoutSeconds: 60, ...settings, run });

function setup(kinds: AnyTaskKind[], progressIntervalMs = 2_000) {
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskQueue();
  const clock = new ManualClock();
  const registry = createKindRegistry([simulatedKind(0), ...kinds]);
  const processor = createTaskProcessor({
    store,
    queue,
    clock,
    logger: silentLogger,
    kinds: registry,
    leaseSeconds: 30,
    cancelPollMs: 5,
    retryBaseDelaySeconds: 10,
    maxReceiveCount: 3,
    progressIntervalMs,
  });
  const seed = async (n: number, kind: string, payload?: SubmitTaskInput['payload']) => {
    await store.create(newTask({ title: 't', description: 'd', metadata: {}, kind, payload }, ID(n), clock.now()));
    return ID(n);
  };
  const message = (taskId: string, kind?: string, receiveCount = 1) => ({
    body: JSON.stringify({ task_id: taskId, ...(kind ? { kind } : {}) }),
    receiptHandle: `receipt-${taskId}-${receiveCount}`,
    receiveCount,
  });
  const task = (taskId: string) => store.items.get(taskId)!.task;
  return { store, queue, clock, registry, processor, seed, message, task };
}

describe('the kind registry', () => {
  const simulated = simulatedKind(0);

  it('holds each kind once, and the default kind always', () => {
    expect(createKindRegistry([simulated, checksum, compress]).names).toEqual(['simulated', 'checksum', 'compress']);
    expect(() => createKindRegistry([simulated, checksum, checksum])).toThrow('Task kind "checksum" is registered twice');
    expect(() => createKindRegistry([checksum])).toThrow(`must hold the default kind "${DEFAULT_KIND}"`);
  });

  it.each([
    [{ name: 'Upper' }, /must match/],
    [{ name: 'has space' }, /must match/],
    [{ timeoutSeconds: 0 }, /timeoutSeconds must be more than 0/],
    [{ attempts: 0 }, /attempts must be a whole number of 1 or more/],
    [{ concurrency: 1.5 }, /concurrency must be a whole number of 1 or more/],
  ])('refuses a kind defined with %j', (settings, message) => {
    expect(() => testKind('fine', async () => null, settings)).toThrow(message);
  });
});

describe('a processor of kinds', () => {
  it('refuses a kind asking for more attempts than the queue delivers a message', () => {
    expect(() => setup([testKind('stubborn', async () => null, { attempts: 4 })])).toThrow(
      'Task kind stubborn asks for 4 attempts; the queue delivers a message at most 3 times (MAX_RECEIVE_COUNT)',
    );
  });
});

describe('submitting a task of a kind', () => {
  const kinds = createKindRegistry([simulatedKind(0), checksum, compress]);
  const submitSetup = () => {
    const store = new InMemoryTaskStore();
    const queue = new InMemoryTaskQueue();
    const service = createTaskService({ store, queue, clock: new ManualClock(), logger: silentLogger });
    return { store, queue, submit: createSubmit(service, kinds), submitBatch: createSubmitBatch(service, kinds) };
  };
  const base = { title: 't', description: 'd' };

  it('stores the kind and the payload as its schema parsed it (defaults filled in), and sends the kind with the message', async () => {
    const { store, queue, submit } = submitSetup();
    const result = await submit(jsonPost({ ...base, kind: 'checksum', payload: { data_base64: 'aGVsbG8=' } }), lambdaContext());
    expect(result.statusCode).toBe(202);
    const { task_id } = JSON.parse(result.body);
    expect(store.items.get(task_id)!.task).toMatchObject({ kind: 'checksum', payload: { data_base64: 'aGVsbG8=', algorithm: 'sha256', repeat: 1 } });
    expect(queue.messages).toEqual([{ task_id, kind: 'checksum' }]);
  });

  it('gives a task sent without a kind the default kind, its payload any JSON as before', async () => {
    const { store, submit } = submitSetup();
    const result = await submit(jsonPost({ ...base, payload: [1, 'two', { three: 3 }] }), lambdaContext());
    expect(store.items.get(JSON.parse(result.body).task_id)!.task).toMatchObject({ kind: 'simulated', payload: [1, 'two', { three: 3 }] });
  });

  it.each([
    [{ kind: 'thumbnail', payload: {} }, 'kind', 'must be one of: simulated, checksum, compress'],
    [{ kind: 7 }, 'kind', 'must be a string'],
    [{ kind: 'checksum' }, 'payload', expect.any(String)],
    [{ kind: 'checksum', payload: { data_base64: '***' } }, 'payload.data_base64', 'must be base64'],
    [{ kind: 'checksum', payload: { data_base64: 'aGk=', repeat: 0 } }, 'payload.repeat', 'must be at least 1'],
    [{ kind: 'checksum', payload: { data_base64: 'aGk=', extra: 1 } }, 'payload', expect.stringContaining('extra')],
    [{ kind: 'compress', payload: { text: 'x', format: 'zip' } }, 'payload.format', expect.any(String)],
  ])('answers 400 VALIDATION_ERROR naming the field for %j', async (fields, path, message) => {
    const { store, queue, submit } = submitSetup();
    const result = await submit(jsonPost({ ...base, ...fields }), lambdaContext());
    expect(result.statusCode).toBe(400);
    const body = JSON.parse(result.body);
    expect(body.error.code).toBe('VALIDATION_ERROR');
    expect(body.error.details).toContainEqual({ path, message });
    expect(store.items.size).toBe(0);
    expect(queue.messages).toEqual([]);
  });

  it('tells an unknown kind beside the other fields\' errors, not only once they are right', async () => {
    const { submit } = submitSetup();
    const result = await submit(jsonPost({ title: '', description: 'd', kind: 'thumbnail' }), lambdaContext());
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.details).toEqual([
      { path: 'title', message: expect.any(String) },
      { path: 'kind', message: 'must be one of: simulated, checksum, compress' },
    ]);
  });

  it('takes a batch that mixes kinds, and refuses all of it when one task is wrong for its kind', async () => {
    const { store, submitBatch } = submitSetup();
    const tasks = [{ ...base }, { ...base, kind: 'checksum', payload: { data_base64: 'aGk=' } }, { ...base, kind: 'compress', payload: { text: 'hi' } }];
    const accepted = await submitBatch(jsonPost({ tasks }), lambdaContext());
    expect(accepted.statusCode).toBe(202);
    expect([...store.items.values()].map(({ task }) => task.kind).sort()).toEqual(['checksum', 'compress', 'simulated']);

    const refused = await submitBatch(jsonPost({ tasks: [...tasks, { ...base, kind: 'compress', payload: { text: '' } }] }), lambdaContext());
    expect(refused.statusCode).toBe(400);
    expect(JSON.parse(refused.body).error.details).toContainEqual({ path: 'tasks.3.payload.text', message: 'must not be empty' });
    expect(store.items.size).toBe(3);
  });
});

describe('running a task by its kind', () => {
  it('runs the kind the task names, with its payload, and keeps the result', async () => {
    const { processor, seed, message, task } = setup([checksum]);
    const id = await seed(1, 'checksum', { data_base64: Buffer.from('hello').toString('base64'), algorithm: 'sha256', repeat: 3 });
    await expect(processor.process(message(id, 'checksum'))).resolves.toBe('completed');
    expect(task(id)).toMatchObject({
      status: 'COMPLETED',
      result: { algorithm: 'sha256', bytes: 15, digest: createHash('sha256').update('hellohellohello').digest('hex') },
    });
  });

  it('compresses for real: the kept bytes gunzip to the text', async () => {
    const { processor, seed, message, task } = setup([compress]);
    const text = 'to be or not to be, '.repeat(5_000);
    const id = await seed(1, 'compress', { text, format: 'gzip', level: 9, return_data: true });
    await processor.process(message(id, 'compress'));
    const result = task(id).result as { input_bytes: number; output_bytes: number; data_base64: string };
    expect(result.input_bytes).toBe(text.length);
    expect(result.output_bytes).toBeLessThan(text.length / 20);
    expect(gunzipSync(Buffer.from(result.data_base64, 'base64')).toString()).toBe(text);
  });

  it('gives the work its attempt number and the task id', async () => {
    const seen: Array<[string, number]> = [];
    const { processor, seed, message } = setup([testKind('echo', async (_p, { taskId, attempt }) => seen.push([taskId, attempt]))]);
    const id = await seed(1, 'echo');
    await processor.process(message(id, 'echo'));
    expect(seen).toEqual([[id, 1]]);
  });

  it('fails at once, with UNKNOWN_KIND, a task of a kind this deployment does not run', async () => {
    const { processor, seed, message, task } = setup([]);
    const id = await seed(1, 'retired');
    await expect(processor.process(message(id, 'retired'))).resolves.toBe('failed');
    expect(task(id)).toMatchObject({ status: 'FAILED', error: { code: 'UNKNOWN_KIND' }, attempts: 1 });
  });

  it('fails at once, with its code, a task whose work throws a PermanentTaskError', async () => {
    const { processor, seed, message, task, queue } = setup([
      testKind('strict', async () => {
        throw new PermanentTaskError('NO_SUCH_IMAGE', 'The image is gone');
      }),
    ]);
    const id = await seed(1, 'strict');
    await expect(processor.process(message(id, 'strict'))).resolves.toBe('failed');
    expect(task(id)).toMatchObject({ status: 'FAILED', error: { code: 'NO_SUCH_IMAGE', message: 'The image is gone' } });
    expect(queue.retries).toEqual([]);
  });

  it('retries a failed attempt with the kind\'s own backoff, and fails the task on its kind\'s last attempt with the error\'s code', async () => {
    const failing = Object.assign(new Error('disk full'), { code: 'DISK_FULL' });
    const { processor, seed, message, task, queue, clock } = setup([
      testKind('flaky', async () => {
        throw failing;
      }, { attempts: 2, retryBaseDelaySeconds: 7 }),
    ]);
    const id = await seed(1, 'flaky');
    await expect(processor.process(message(id, 'flaky', 1))).rejects.toBe(failing);
    expect(queue.retries).toEqual([{ receiptHandle: `receipt-${id}-1`, delaySeconds: 7 }]);
    expect(task(id).status).toBe('PROCESSING');
    clock.advance(7_000);
    await expect(processor.process(message(id, 'flaky', 2))).resolves.toBe('failed');
    expect(task(id)).toMatchObject({ status: 'FAILED', attempts: 2, error: { code: 'DISK_FULL', message: 'Attempt 2 of 2: disk full' } });
  });

  it('refuses a result its kind\'s schema refuses, or one too big to keep', async () => {
    const { processor, seed, message, task } = setup([
      defineTaskKind({ name: 'typed', description: '', payload: z.unknown(), result: z.object({ n: z.number() }), timeoutSeconds: 5, run: async () => ({ n: 'one' }) as never }),
      testKind('huge', async () => 'x'.repeat(MAX_RESULT_BYTES + 1)),
    ]);
    const typed = await seed(1, 'typed');
    const huge = await seed(2, 'huge');
    await processor.process(message(typed, 'typed'));
    await processor.process(message(huge, 'huge'));
    expect(task(typed)).toMatchObject({ status: 'FAILED', error: { code: 'INVALID_RESULT' }, result: null });
    expect(task(huge)).toMatchObject({ status: 'FAILED', error: { code: 'RESULT_TOO_LARGE' }, result: null });
  });
});

describe('a kind\'s timeout', () => {
  it('aborts the work\'s signal, and the attempt fails with TIMED_OUT', async () => {
    let reason: unknown;
    const { processor, seed, message, task } = setup([
      testKind('heeds', (_p, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject((reason = signal.reason)))), {
        timeoutSeconds: 0.05,
        attempts: 1,
      }),
    ]);
    const id = await seed(1, 'heeds');
    await expect(processor.process(message(id, 'heeds'))).resolves.toBe('failed');
    expect(reason).toMatchObject({ code: 'TIMED_OUT' });
    expect(task(id)).toMatchObject({ status: 'FAILED', error: { code: 'TIMED_OUT' }, result: null });
  });

  it('ends the attempt even when the work ignores its signal, and its late result never reaches the task', async () => {
    let finishLate!: (value: unknown) => void;
    const late = new Promise((resolve) => (finishLate = resolve));
    const { processor, seed, message, task, store } = setup([testKind('deaf', () => late, { timeoutSeconds: 0.05, attempts: 1 })]);
    const id = await seed(1, 'deaf');
    await expect(processor.process(message(id, 'deaf'))).resolves.toBe('failed');
    finishLate({ too: 'late' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(task(id)).toMatchObject({ status: 'FAILED', error: { code: 'TIMED_OUT' }, result: null });
    expect(store.items.get(id)!.task.completed_at).toBeNull();
  });

  it('comes back for another attempt while its kind has attempts left', async () => {
    const { processor, seed, message, task } = setup([testKind('slow', () => new Promise(() => undefined), { timeoutSeconds: 0.05 })]);
    const id = await seed(1, 'slow');
    await expect(processor.process(message(id, 'slow'))).rejects.toMatchObject({ code: 'TIMED_OUT' });
    expect(task(id)).toMatchObject({ status: 'PROCESSING', attempts: 1 });
  });
});

describe('progress', () => {
  it('is written at the next turn with the latest value, then at most once per interval, and shows in the task', async () => {
    const gates: Array<() => void> = [];
    const gate = () => new Promise<void>((resolve) => gates.push(resolve));
    const { processor, seed, message, store, clock } = setup(
      [
        testKind('steps', async (_p, { progress }) => {
          for (let i = 1; i <= 50; i++) progress(i / 100, `step ${i}`);
          await gate();
          progress(0.75, 'more');
          progress(0.8);
          await gate();
          progress(0.9, 'recorded by the completion');
          return 'ok';
        }),
      ],
      50,
    );
    const id = await seed(1, 'steps');
    const run = processor.process(message(id, 'steps'));
    const writes = () => store.progressWrites.map(({ progress }) => [progress.fraction, progress.message]);
    const untilWrites = async (count: number) => {
      while (store.progressWrites.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    // 50 reports in one go: one write, of the latest.
    await untilWrites(1);
    expect(writes()).toEqual([[0.5, 'step 50']]);
    expect(store.items.get(id)!.task.progress).toEqual({ fraction: 0.5, message: 'step 50', updated_at: clock.now().toISOString() });
    // Two more within the interval: written once it has passed, the latest again.
    gates.shift()!();
    await untilWrites(2);
    expect(writes()).toEqual([[0.5, 'step 50'], [0.8, null]]);
    gates.shift()!();
    await expect(run).resolves.toBe('completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writes()).toHaveLength(2);
    // The report not yet written when the work ended is recorded by the completion itself.
    expect(store.items.get(id)!.task).toMatchObject({ status: 'COMPLETED', progress: { fraction: 0.9, message: 'recorded by the completion' } });
  });

  it('is refused for a task no longer PROCESSING under that attempt', async () => {
    const store = new InMemoryTaskStore();
    const clock = new ManualClock();
    await store.create(newTask({ title: 't', description: 'd', metadata: {} }, ID(1), clock.now()));
    const progress = { fraction: 0.5, message: null, updated_at: clock.now().toISOString() };
    await expect(store.recordProgress(ID(1), 1, progress)).resolves.toBe(false);
  });

  it('refuses a fraction outside 0 to 1, failing the attempt that reported it', async () => {
    const { processor, seed, message } = setup([testKind('wrong', async (_p, { progress }) => progress(42))]);
    const id = await seed(1, 'wrong');
    await expect(processor.process(message(id, 'wrong'))).rejects.toThrow('fraction must be a number from 0 to 1, not 42');
  });
});

describe('a kind\'s concurrency', () => {
  it('runs at most that many of its tasks at once in one invocation; the others wait, still PENDING', async () => {
    let running = 0;
    let started = 0;
    let most = 0;
    const waiting: Array<() => void> = [];
    const { processor, seed, message, task } = setup([
      testKind('narrow', async () => {
        running++;
        started++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => waiting.push(resolve));
        running--;
      }, { concurrency: 2 }),
    ]);
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => seed(n, 'narrow')));
    const runs = ids.map((id) => processor.process(message(id, 'narrow')));
    while (started < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ids.map((id) => task(id).status).filter((status) => status === 'PENDING')).toHaveLength(3);
    // Let one finish at a time, until every task has had its turn.
    while (started < 5 || waiting.length > 0) {
      waiting.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(runs);
    expect(started).toBe(5);
    expect(most).toBe(2);
  });
});
