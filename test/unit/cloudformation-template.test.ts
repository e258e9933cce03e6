import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Packages serverless.yml for the LocalStack stage, offline and with placeholder credentials, and
 * checks the CloudFormation template it produces: what `docker compose up` would deploy.
 */
// The template is untyped JSON; `any` lets the assertions read it as such.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Resource = { Type: string; Properties: Record<string, Json> };
let resources: Record<string, Resource>;
const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const policyOf = (roleId: string) =>
  resources[roleId]!.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement) as Array<{
    Action: string[];
    Resource: unknown;
  }>;

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'task-service-package-'));
  try {
    execFileSync(
      process.execPath,
      ['node_modules/serverless/bin/serverless.js', 'package', '--stage', 'localstack', '--package', out],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'offline',
          AWS_SECRET_ACCESS_KEY: 'offline',
          SLS_TELEMETRY_DISABLED: '1',
          // Its own build folder: the embedded stack of other suites may be running from `.esbuild`.
          ESBUILD_WORK_FOLDER: `.esbuild-package-test/${process.pid}`,
        },
        stdio: 'pipe',
      },
    );
    resources = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

describe('the packaged CloudFormation template (stage localstack)', () => {
  it('has the task queue, with a visibility of 6 × the processor timeout and a redrive to the dead-letter queue after 3 receives', () => {
    const queue = resources.TasksQueue!.Properties;
    expect(queue.QueueName).toBe('task-service-localstack-tasks');
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * resources.ProcessTasksLambdaFunction!.Properties.Timeout);
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['TasksDeadLetterQueue', 'Arn'] }, maxReceiveCount: 3 });
    expect(resources.TasksDeadLetterQueue!.Type).toBe('AWS::SQS::Queue');
  });

  it('maps the queue to the processor in batches of 10 with ReportBatchItemFailures, and the DLQ to its consumer', () => {
    const mappings = byType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
    const processor = mappings.find((m) => JSON.stringify(m.EventSourceArn).includes('"TasksQueue"'))!;
    expect(processor).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    expect(processor.FunctionName).toEqual({ 'Fn::GetAtt': ['ProcessTasksLambdaFunction', 'Arn'] });
    const deadLetters = mappings.find((m) => JSON.stringify(m.EventSourceArn).includes('TasksDeadLetterQueue'))!;
    expect(deadLetters.FunctionName).toEqual({ 'Fn::GetAtt': ['FailDeadLettersLambdaFunction', 'Arn'] });
  });

  it('has the on-demand table keyed by task_id with the two sharded, keys-only list indexes', () => {
    const table = resources.TasksTable!.Properties;
    expect(table).toMatchObject({ BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'task_id', KeyType: 'HASH' }] });
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'by-created',
        KeySchema: [
          { AttributeName: 'list_shard', KeyType: 'HASH' },
          { AttributeName: 'created_key', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'by-status',
        KeySchema: [
          { AttributeName: 'status_shard', KeyType: 'HASH' },
          { AttributeName: 'created_key', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
  });

  it('gives each function its own role, allowing only what it calls', () => {
    const expected: Record<string, string[]> = {
      SubmitTask: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sqs:SendMessage'],
      SubmitTaskBatch: ['dynamodb:BatchWriteItem', 'dynamodb:UpdateItem', 'sqs:SendMessage'],
      GetTask: ['dynamodb:GetItem'],
      ListTasks: ['dynamodb:BatchGetItem', 'dynamodb:Query'],
      CancelTask: ['dynamodb:UpdateItem'],
      Health: ['dynamodb:DescribeTable', 'sqs:GetQueueAttributes'],
      ProcessTasks: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
      FailDeadLetters: ['dynamodb:UpdateItem', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
      RequeueStaleTasks: ['dynamodb:Query', 'sqs:SendMessage'],
    };
    for (const [fn, actions] of Object.entries(expected)) {
      const role = resources[`${fn}LambdaFunction`]!.Properties.Role;
      expect(role).toEqual({ 'Fn::GetAtt': [`${fn}IamRoleLambdaExecution`, 'Arn'] });
      const granted = policyOf(`${fn}IamRoleLambdaExecution`)
        .flatMap((s) => s.Action)
        .filter((a) => a.startsWith('dynamodb:') || a.startsWith('sqs:'));
      expect([...new Set(granted)].sort()).toEqual(actions.sort());
      // No wildcard resources for the table or the queues.
      for (const statement of policyOf(`${fn}IamRoleLambdaExecution`)) {
        if (statement.Action.some((a) => a.startsWith('dynamodb:') || a.startsWith('sqs:'))) {
          expect(JSON.stringify(statement.Resource)).not.toMatch(/"\*"/);
        }
      }
    }
  });
});
