// Suites against a running stack wait on real queues, cold starts and work: each test gets
// TEST_TIMEOUT_MS (set by `npm run test:localstack` for a slower target), 90 s by default.
jest.setTimeout(Number(process.env.TEST_TIMEOUT_MS ?? 90_000));
// A test against the shared stack that fails is run once more, its first failure printed: on this
// two-core machine a burst of cold function instances can stall DynamoDB Local for seconds (see the
// README's bench section). A test that fails twice fails the run.
jest.retryTimes(1, { logErrorsBeforeRetry: true });
