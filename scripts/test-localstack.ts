import { spawnSync } from 'node:child_process';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { credentials, localStackTestEnv, STAGE } from './localstack-env';

/**
 * `npm run test:localstack`: runs the integration and end-to-end suites against the deployment in
 * LocalStack (`docker compose up -d && docker compose wait deploy` first) instead of the embedded
 * stack. Everything the suites need is read from the CloudFormation stack's outputs.
 */
async function main() {
  const endpoint = process.env.LOCALSTACK_ENDPOINT ?? 'http://127.0.0.1:4566';
  Object.assign(process.env, credentials);
  const cloudFormation = new CloudFormationClient({ endpoint });
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: `task-service-${STAGE}` }));
  const outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue]));
  const env = localStackTestEnv(endpoint, outputs);
  console.log(`Testing the LocalStack deployment at ${env.TEST_API_URL}`);
  // The caller's arguments (a test file) go first: --selectProjects takes every word after it as a project.
  const jest = spawnSync('npx', ['jest', ...process.argv.slice(2), '--selectProjects', 'integration', 'e2e'], {
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  process.exit(jest.status ?? 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
