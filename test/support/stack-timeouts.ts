// Suites against a running stack wait on real queues, cold starts and work: each test gets
// TEST_TIMEOUT_MS (set by `npm run test:localstack` for a slower target), 90 s by default. No test
// is retried: a test that fails once fails the run.
jest.setTimeout(Number(process.env.TEST_TIMEOUT_MS ?? 90_000));
