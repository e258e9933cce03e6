// Unit tests build handlers with fakes, but importing a function module still runs the
// composition root: give it a configuration that names nothing real.
process.env.TASKS_TABLE = 'unit-test-tasks';
process.env.TASKS_QUEUE_URL = 'http://127.0.0.1:1/000000000000/unit-test-queue';
process.env.TASKS_DEAD_LETTER_QUEUE_URL = 'http://127.0.0.1:1/000000000000/unit-test-queue-dlq';
process.env.TASKS_HIGH_PRIORITY_QUEUE_URL = 'http://127.0.0.1:1/000000000000/unit-test-queue-high';
process.env.AWS_REGION = 'us-east-1';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.TASK_EVENT_BUS_NAME = 'unit-test-events';
process.env.TASK_CALLBACKS_QUEUE_URL = 'http://127.0.0.1:1/000000000000/unit-test-callbacks';
process.env.CALLBACK_SIGNING_SECRET = 'unit-test-signing-secret';
