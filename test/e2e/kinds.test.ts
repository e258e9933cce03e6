import { createHash } from 'node:crypto';
import { eventually, stackEnv, testTimeoutMs } from '../support/stack-env';

const { apiUrl } = stackEnv();
/** The embedded test stack is built with test/fixtures/kinds/index.ts; a LocalStack deployment runs only the shipped kinds. */
const withFixtureKind = process.env.TEST_FIXTURE_KINDS === '1';

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const submit = (kind: string | undefined, payload: unknown) => call('POST', '/tasks', { title: `a ${kind ?? 'default'} task`, description: 'e2e kinds', ...(kind ? { kind } : {}), payload });
const finalOf = (taskId: string) =>
  eventually(async () => {
    const { body } = await call('GET', `/tasks/${taskId}`);
    return ['COMPLETED', 'FAILED', 'CANCELED'].includes(body.status) ? body : undefined;
  });

describe('task kinds, through the embedded stack', () => {
  it('runs a shipped kind on its payload: checksum', async () => {
    const data = Buffer.from('every task has a kind');
    const submitted = await submit('checksum', { data_base64: data.toString('base64'), algorithm: 'sha1', repeat: 2 });
    expect(submitted.status).toBe(202);
    const task = await finalOf(submitted.body.task_id);
    expect(task).toMatchObject({
      status: 'COMPLETED',
      kind: 'checksum',
      payload: { data_base64: data.toString('base64'), algorithm: 'sha1', repeat: 2 },
      result: { algorithm: 'sha1', bytes: data.length * 2, digest: createHash('sha1').update(Buffer.concat([data, data])).digest('hex') },
      // Its last report, recorded by the completion even where the coalesced writes had not got to it.
      progress: { fraction: 1, message: `${data.length * 2} of ${data.length * 2} bytes` },
    });
  });

  it('answers 400 VALIDATION_ERROR for an unknown kind and for a payload its kind refuses, storing nothing', async () => {
    const unknown = await submit('thumbnail', {});
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'kind', message: expect.stringMatching(/^must be one of: simulated, checksum, compress/) }] });
    const refused = await submit('compress', { text: 'abc', level: 12 });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'payload.level', message: 'must be at most 9' }]);
  });

  it('keeps a request without a kind working as before: the simulated job', async () => {
    const submitted = await submit(undefined, { any: 'json' });
    expect(await finalOf(submitted.body.task_id)).toMatchObject({ status: 'COMPLETED', kind: 'simulated', result: { payload_bytes: 14 } });
  });

  it('shows each kind\'s payload schema in the served OpenAPI document', async () => {
    const { body } = await call('GET', '/openapi.json');
    const schemas = Object.keys(body.components.schemas);
    expect(schemas).toEqual(expect.arrayContaining(['SimulatedPayload', 'ChecksumPayload', 'CompressPayload', ...(withFixtureKind ? ['WordCountPayload'] : [])]));
  });
});

(withFixtureKind ? describe : describe.skip)('a kind added from a fixture file (test/fixtures/kinds/word-count.ts)', () => {
  const text = ['one two three', 'four five', 'six', 'seven eight nine ten', 'eleven', 'twelve'].join('\n');

  it(
    'runs end to end, its progress visible while it runs and changing the ETag',
    async () => {
      const submitted = await submit('word-count', { text, pause_ms: 700 });
      expect(submitted.status).toBe(202);
      const id = submitted.body.task_id;
      // Progress is written as it runs: a read sees it part of the way, before the task ends.
      const running = await eventually(async () => {
        const response = await fetch(`${apiUrl}/tasks/${id}`);
        const body = (await response.json()) as { status: string; progress: { fraction: number } | null };
        return body.status === 'PROCESSING' && body.progress ? { body, etag: response.headers.get('etag') } : undefined;
      });
      expect(running.body.progress).toEqual({ fraction: expect.any(Number), message: expect.stringMatching(/^line \d of 6$/), updated_at: expect.any(String) });
      expect(running.body.progress!.fraction).toBeLessThan(1);
      // A waiting read with that ETag wakes when the progress (or the status) moves on.
      const moved = await fetch(`${apiUrl}/tasks/${id}?wait=20`, { headers: { 'If-None-Match': running.etag! } });
      expect(moved.status).toBe(200);
      expect(moved.headers.get('etag')).not.toBe(running.etag);
      const task = await finalOf(id);
      expect(task).toMatchObject({ status: 'COMPLETED', kind: 'word-count', result: { lines: 6, words: 12 }, progress: { fraction: 1, message: 'line 6 of 6' } });
      // It shows in list summaries too.
      const { body: list } = await call('GET', '/tasks?limit=100');
      expect(list.tasks.find((summary: { task_id: string }) => summary.task_id === id)).toMatchObject({ kind: 'word-count', progress: { fraction: expect.any(Number) } });
    },
    testTimeoutMs(60_000),
  );

  it('refuses a payload of the added kind with the field paths', async () => {
    const refused = await submit('word-count', { text: '' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'payload.text', message: 'must not be empty' }]);
  });
});
