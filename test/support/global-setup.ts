import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack, type EmbeddedStack } from '../../local/embedded-stack';

/** Settings of the stack the integration and end-to-end suites share: short work, quick retries. */
export const TEST_STACK = {
  workMs: 1_000,
  cancelPollMs: 100,
  retryBaseDelaySeconds: 1,
  // Longer than any invocation takes on a loaded 2-core machine: a batch still at work must not be
  // delivered again beside itself (AWS asks for six times the function timeout; 30 s is that timeout).
  visibilityTimeoutSeconds: 30,
  // Room for the failure-path test's 24 batches at once, beside the other suites' batches (the test
  // files run in parallel against this one stack).
  maxConcurrency: 40,
  // The project's kinds and one more from a fixture file (test/e2e/kinds.test.ts runs it).
  kindsModule: './test/fixtures/kinds/index.ts',
  // Delayed tasks due more than 2 s after their submit are held, and the dispatcher runs every 2 s (each
  // run is 16 queries: every second, they weighed on DynamoDB Local under a busy core): test/e2e/delayed.test.ts
  // follows a held task through it in seconds, not a quarter of an hour.
  dispatchAheadSeconds: 2,
  // A completion event its writer could not publish is relayed 2 s after its final write, by a relay run
  // every 2 s (test/e2e/events.test.ts); a callback is tried 3 times, 1 s and then 2 s apart.
  eventRelayAfterSeconds: 2,
  callbackMaxAttempts: 3,
  callbackRetryBaseSeconds: 1,
  scheduleEveryMs: { dispatchDueTasks: 2_000, publishCompletionEvents: 2_000 },
};

const state = globalThis as typeof globalThis & { __testStack?: { stack?: EmbeddedStack; users: number } };

/**
 * Starts the embedded stack once for every project that needs it, unless TEST_API_URL says the
 * suites run against another deployment (LocalStack), whose endpoints then come from the environment.
 */
export default async function globalSetup() {
  if (state.__testStack) {
    state.__testStack.users++;
    return;
  }
  state.__testStack = { users: 1 };
  if (process.env.TEST_API_URL) return;
  // The functions' log lines (WARN and up), for the suites that check what is logged.
  const logFile = join(tmpdir(), `task-service-test-stack-${process.pid}.log`);
  rmSync(logFile, { force: true });
  const stack = await startEmbeddedStack({ ...TEST_STACK, logLevel: 'WARN', logFile });
  state.__testStack.stack = stack;
  Object.assign(process.env, stack.env, {
    TEST_API_URL: stack.apiUrl,
    TEST_LAMBDA_ENDPOINT: stack.lambdaEndpoint,
    TEST_DEAD_LETTER_QUEUE_URL: stack.resources.queues.TasksDeadLetterQueue?.url ?? '',
    TEST_EVENT_BUS_ENDPOINT: stack.emulatorEndpoints.events,
    TEST_CALLBACK_MAX_ATTEMPTS: String(TEST_STACK.callbackMaxAttempts),
    TEST_TASK_WORK_MS: String(TEST_STACK.workMs),
    TEST_DISPATCH_AHEAD_SECONDS: String(TEST_STACK.dispatchAheadSeconds),
    TEST_FIXTURE_KINDS: '1',
    TEST_STACK_LOG: logFile,
  });
}
