/** Where the shared stack is, as the global setup (or a LocalStack run) left it in the environment. */
export function stackEnv() {
  const required = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the suites through jest's global setup`);
    return value;
  };
  return {
    apiUrl: required('TEST_API_URL'),
    tableName: required('TASKS_TABLE'),
    queueUrl: required('TASKS_QUEUE_URL'),
    workMs: Number(process.env.TEST_TASK_WORK_MS ?? 1000),
    /** serverless-offline's Lambda API (or LocalStack's), to invoke a function by name. */
    lambdaEndpoint: process.env.TEST_LAMBDA_ENDPOINT,
    functionName: (key: string) => `task-service-${process.env.TEST_STAGE ?? 'local'}-${key}`,
    /** The suites run against the embedded stack (`npm test`), not a deployment (`npm run test:localstack`). */
    onEmbeddedStack: (process.env.TEST_STAGE ?? 'local') === 'local',
  };
}

/**
 * How long a suite waits for the stack to do something (a task to complete): TEST_WAIT_MS, set by
 * `npm run test:localstack` for a slower target (cold containers, the event source mapping's poll
 * backoff), 40 s by default (the suites share one stack; a burst of cold instances can stall it for seconds). Each test's own timeout (TEST_TIMEOUT_MS) must exceed it.
 */
export const waitMs = (atLeast = 40_000) => Math.max(atLeast, Number(process.env.TEST_WAIT_MS ?? 0));
/** A test's timeout: at least `ms`, and at least TEST_TIMEOUT_MS. */
export const testTimeoutMs = (ms: number) => Math.max(ms, Number(process.env.TEST_TIMEOUT_MS ?? 0));

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = waitMs(), intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
