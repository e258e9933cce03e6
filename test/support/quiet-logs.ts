// Handlers called in the test process log through the container's logger: the suites assert on
// answers and stored state, so the logs (expected ERROR lines of injected faults included) stay quiet.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
