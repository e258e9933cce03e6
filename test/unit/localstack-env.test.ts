import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigSchema } from '#lib/config';
import { LOCALSTACK_TEST_TIMEOUT_MS, LOCALSTACK_WAIT_MS, localStackTestEnv } from '../../scripts/localstack-env';

const outputs = {
  ServiceEndpoint: 'https://abc123.execute-api.localhost.localstack.cloud:4566/localstack',
  TasksQueueUrl: 'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/task-service-localstack-tasks',
  TasksTableName: 'task-service-localstack-tasks',
  TasksDeadLetterQueueUrl: 'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/task-service-localstack-tasks-dlq',
  TasksHighPriorityQueueUrl: 'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/task-service-localstack-tasks-high',
  TaskCallbacksQueueUrl: 'http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/task-service-localstack-callbacks',
  TaskEventBusName: 'task-service-localstack-events',
};

const suiteSources = () =>
  ['integration', 'e2e'].flatMap((folder) => {
    const dir = join(__dirname, '..', folder);
    return readdirSync(dir)
      .filter((name) => name.endsWith('.ts'))
      .map((file) => ({ file: `${folder}/${file}`, source: readFileSync(join(dir, file), 'utf8') }));
  });

/** Every wait the suites against a stack make, in ms: `eventually(..., N)` and `waitMs(N)` literals, and the default. */
function suiteWaits(): number[] {
  const waits = [40_000];
  for (const { source } of suiteSources()) {
    for (const match of source.matchAll(/waitMs\(([\d_]+)\)|eventually\([^;]*?,\s*([\d_]+)\s*,/g)) {
      waits.push(Number((match[1] ?? match[2])!.replace(/_/g, '')));
    }
  }
  return waits;
}

describe('npm run test:localstack', () => {
  const env = localStackTestEnv('http://127.0.0.1:4566', outputs);

  it('reaches the API through LocalStack\'s current execute-api path, and queues at the endpoint (no DNS on the host)', () => {
    expect(env.TEST_API_URL).toBe('http://127.0.0.1:4566/_aws/execute-api/abc123/localstack/api');
    expect(env.TASKS_QUEUE_URL).toBe('http://127.0.0.1:4566/000000000000/task-service-localstack-tasks');
  });

  it('is a whole configuration of the service: the suites import the functions, whose composition root parses it', () => {
    // Only the environment the suites get: nothing of this machine's own (unit tests set a configuration of their own).
    const parsed = ConfigSchema.safeParse(env);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(env.TASKS_DEAD_LETTER_QUEUE_URL).toBe('http://127.0.0.1:4566/000000000000/task-service-localstack-tasks-dlq');
  });

  it('gives each test more time than the slowest wait the suites make on that target', () => {
    // As the suites compute them (test/support/stack-env.ts) under that environment.
    const slowest = Math.max(...suiteWaits().map((wait) => Math.max(wait, Number(env.TEST_WAIT_MS))));
    expect(slowest).toBeGreaterThanOrEqual(LOCALSTACK_WAIT_MS);
    expect(Number(env.TEST_TIMEOUT_MS)).toBe(LOCALSTACK_TEST_TIMEOUT_MS);
    // Room beyond the wait itself for the calls around it (a submit, cold containers).
    expect(Number(env.TEST_TIMEOUT_MS)).toBeGreaterThanOrEqual(slowest + 30_000);
  });

  it('finds every wait of the suites: none is a literal timeout that TEST_WAIT_MS would not stretch', () => {
    const literal = suiteSources().flatMap(({ file, source }) => [...source.matchAll(/timeout:\s*[\d_]+/g)].map((match) => `${file}: ${match[0]}`));
    expect(literal).toEqual([]);
  });

  it('refuses to run before the deploy has written its outputs', () => {
    expect(() => localStackTestEnv('http://127.0.0.1:4566', {})).toThrow(/docker compose wait deploy/);
  });
});
