/** The suites' settings for a LocalStack deployment: `npm run test:localstack` passes them to Jest. */
export const STAGE = 'localstack';
export const credentials = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };

/**
 * How long the suites wait on LocalStack: a function's first invocation starts a container, and the
 * event source mapping backs off up to 10 s on an empty queue
 * (LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC) before it sees a new message.
 */
export const LOCALSTACK_WAIT_MS = 60_000;
/** Each test's timeout there: longer than the slowest wait, with room for the calls around it. */
export const LOCALSTACK_TEST_TIMEOUT_MS = 180_000;

/** The suites' environment for a LocalStack deployment, from its stack outputs. */
export function localStackTestEnv(endpoint: string, outputs: Record<string, string | undefined>): Record<string, string> {
  const { ServiceEndpoint, TasksQueueUrl, TasksTableName, TasksDeadLetterQueueUrl, TasksHighPriorityQueueUrl, TaskCallbacksQueueUrl, TaskEventBusName } = outputs;
  if (!ServiceEndpoint || !TasksQueueUrl || !TasksTableName || !TasksDeadLetterQueueUrl || !TasksHighPriorityQueueUrl || !TaskCallbacksQueueUrl || !TaskEventBusName) {
    throw new Error(`Stack task-service-${STAGE} has no outputs yet: run \`docker compose up -d && docker compose wait deploy\` first`);
  }
  // https://<api id>.execute-api.<...>/localstack -> LocalStack's own path form of the same API.
  const apiId = new URL(ServiceEndpoint).hostname.split('.')[0];
  // LocalStack resolves a queue from the URL's path: address it at the endpoint, no DNS needed on the host.
  const atEndpoint = (queueUrl: string) => `${endpoint}${new URL(queueUrl).pathname}`;
  return {
    ...credentials,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
    TASK_EVENT_BUS_NAME: TaskEventBusName,
    TASK_CALLBACKS_QUEUE_URL: atEndpoint(TaskCallbacksQueueUrl),
    // What the stage's functions sign with (serverless.yml, custom.localSigningSecret): the suites check signatures.
    CALLBACK_SIGNING_SECRET: 'local-callback-signing-secret-not-for-production',
    TASKS_TABLE: TasksTableName,
    TASKS_QUEUE_URL: atEndpoint(TasksQueueUrl),
    TASKS_DEAD_LETTER_QUEUE_URL: atEndpoint(TasksDeadLetterQueueUrl),
    TASKS_HIGH_PRIORITY_QUEUE_URL: atEndpoint(TasksHighPriorityQueueUrl),
    TEST_API_URL: `${endpoint}/_aws/execute-api/${apiId}/${STAGE}/api`,
    TEST_LAMBDA_ENDPOINT: endpoint,
    TEST_STAGE: STAGE,
    TEST_TASK_WORK_MS: '1000',
    TEST_WAIT_MS: String(LOCALSTACK_WAIT_MS),
    TEST_TIMEOUT_MS: String(LOCALSTACK_TEST_TIMEOUT_MS),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

