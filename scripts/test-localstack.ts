import { spawnSync } from 'node:child_process';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/**
 * `npm run test:localstack`: runs the integration and end-to-end suites against the deployment in
 * LocalStack (`docker compose up -d --wait` first) instead of the embedded stack. Everything the
 * suites need is read from the CloudFormation stack's outputs.
 */
const endpoint = process.env.LOCALSTACK_ENDPOINT ?? 'http://127.0.0.1:4566';
const stage = 'localstack';
const credentials = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };

async function main() {
  Object.assign(process.env, credentials);
  const cloudFormation = new CloudFormationClient({ endpoint });
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: `task-service-${stage}` }));
  const outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const serviceEndpoint = outputs.ServiceEndpoint;
  if (!serviceEndpoint || !outputs.TasksQueueUrl || !outputs.TasksTableName) {
    throw new Error(`Stack task-service-${stage} has no outputs yet: run \`docker compose up -d --wait\` first`);
  }
  // https://<api id>.execute-api.<...>/localstack -> LocalStack's path form of the same API.
  const apiId = new URL(serviceEndpoint).hostname.split('.')[0];
  const apiUrl = `${endpoint}/restapis/${apiId}/${stage}/_user_request_/api`;
  const env = {
    ...process.env,
    ...credentials,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    TASKS_TABLE: outputs.TasksTableName,
    TASKS_QUEUE_URL: outputs.TasksQueueUrl,
    TEST_API_URL: apiUrl,
    TEST_LAMBDA_ENDPOINT: endpoint,
    TEST_STAGE: stage,
    TEST_TASK_WORK_MS: '1000',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  console.log(`Testing the LocalStack deployment at ${apiUrl}`);
  const jest = spawnSync('npx', ['jest', '--selectProjects', 'integration', 'e2e', ...process.argv.slice(2)], {
    env,
    stdio: 'inherit',
  });
  process.exit(jest.status ?? 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
