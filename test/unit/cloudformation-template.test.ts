import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * Packages serverless.yml for the LocalStack stage, offline and with placeholder credentials, and
 * checks the CloudFormation template it produces: what `docker compose up` would deploy.
 */
// The template is untyped JSON; `any` lets the assertions read it as such.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Resource = { Type: string; Properties: Record<string, Json> };
let resources: Record<string, Resource>;
const byType = (type: string, from = resources) => Object.entries(from).filter(([, r]) => r.Type === type);
const policyOf = (roleId: string) =>
  resources[roleId]!.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement) as Array<{
    Action: string[];
    Resource: unknown;
  }>;

/** `serverless package` for a stage, offline with placeholder credentials: the template's resources. */
function packageTemplate(stage: string, env: Record<string, string> = {}): Record<string, Resource> {
  const out = mkdtempSync(join(tmpdir(), 'task-service-package-'));
  try {
    const run = spawnSync(process.execPath, ['node_modules/serverless/bin/serverless.js', 'package', '--stage', stage, '--package', out], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'offline',
        AWS_SECRET_ACCESS_KEY: 'offline',
        SLS_TELEMETRY_DISABLED: '1',
        // Its own build folder: the embedded stack of other suites may be running from `.esbuild`.
        ESBUILD_WORK_FOLDER: `.esbuild-package-test/${process.pid}`,
        ...env,
      },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`serverless package failed:\n${run.stdout}\n${run.stderr}`);
    return JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

beforeAll(() => {
  resources = packageTemplate('localstack');
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

  it('has the on-demand table keyed by task_id with the three sharded, keys-only list indexes and the sparse due and unpublished indexes', () => {
    const table = resources.TasksTable!.Properties;
    expect(table).toMatchObject({ BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'task_id', KeyType: 'HASH' }] });
    const keysOnly = (IndexName: string, hash: string, range: string) => ({
      IndexName,
      KeySchema: [
        { AttributeName: hash, KeyType: 'HASH' },
        { AttributeName: range, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    expect(table.GlobalSecondaryIndexes).toEqual([
      keysOnly('by-created', 'list_shard', 'created_key'),
      keysOnly('by-status', 'status_shard', 'created_key'),
      keysOnly('by-kind', 'kind_shard', 'created_key'),
      keysOnly('by-due', 'due_shard', 'due_key'),
      keysOnly('by-unpublished', 'event_shard', 'event_key'),
    ]);
  });

  it('gives each function its own role, allowing only what it calls', () => {
    // What each function's store and queue calls send (lib/aws/): a payload or result kept in an item of
    // its own is read with BatchGetItem wherever a whole task is read (get, cancel, claim, retry).
    // A function that makes a final write publishes its event, queues its callback and clears the event's mark (lib/tasks/completion-events.ts).
    const publishes = ['dynamodb:PartiQLUpdate', 'events:PutEvents', 'sqs:SendMessage'];
    const expected: Record<string, string[]> = {
      SubmitTask: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...publishes],
      SubmitTaskBatch: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...publishes],
      GetTask: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
      ListTasks: ['dynamodb:BatchGetItem', 'dynamodb:Query'],
      CancelTask: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', ...publishes],
      RetryTask: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...publishes],
      RedriveTasks: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', ...publishes],
      CancelTasks: ['dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', ...publishes],
      GetStats: ['dynamodb:BatchGetItem', 'dynamodb:Query', 'sqs:GetQueueAttributes'],
      Health: ['dynamodb:DescribeTable', 'sqs:GetQueueAttributes'],
      ProcessTasks: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', ...publishes],
      ProcessHighPriorityTasks: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', ...publishes],
      FailDeadLetters: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', ...publishes],
      RequeueStaleTasks: ['dynamodb:Query', 'dynamodb:UpdateItem', 'sqs:SendMessage'],
      DispatchDueTasks: ['dynamodb:Query', 'dynamodb:UpdateItem', 'sqs:SendMessage'],
      PublishCompletionEvents: ['dynamodb:BatchGetItem', 'dynamodb:Query', ...publishes],
      DeliverCallbacks: ['dynamodb:UpdateItem', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'ssm:GetParameter'],
    };

    for (const [fn, actions] of Object.entries(expected)) {
      const role = resources[`${fn}LambdaFunction`]!.Properties.Role;
      expect(role).toEqual({ 'Fn::GetAtt': [`${fn}IamRoleLambdaExecution`, 'Arn'] });
      const granted = policyOf(`${fn}IamRoleLambdaExecution`)
        .flatMap((s) => s.Action)
        .filter((a) => /^(dynamodb|sqs|events|ssm):/.test(a));
      expect([...new Set(granted)].sort()).toEqual(actions.sort());
      // No wildcard resources for the table or the queues.
      for (const statement of policyOf(`${fn}IamRoleLambdaExecution`)) {
        if (statement.Action.some((a) => /^(dynamodb|sqs|events|ssm):/.test(a))) {
          expect(JSON.stringify(statement.Resource)).not.toMatch(/"\*"/);
        }
      }
    }
  });
});

describe('the packaged API of a deployed stage (stage dev)', () => {
  let deployed: Record<string, Resource>;
  beforeAll(() => {
    const { API_AUTH: _auth, ...rest } = process.env;
    process.env = rest;
    deployed = packageTemplate('dev');
  }, 120_000);

  const methods = (from: Record<string, Resource>) =>
    byType('AWS::ApiGateway::Method', from).map(([id, r]) => ({ id, method: r.Properties.HttpMethod, auth: r.Properties.AuthorizationType }));

  it('is closed by default: every task endpoint and the stats require IAM (SigV4); health, docs and unknown routes stay open', () => {
    const all = methods(deployed);
    const task = all.filter(({ id, method }) => /^ApiGatewayMethodApi(Tasks|Stats)/.test(id) && method !== 'ANY');
    expect(task.map((m) => m.id).sort()).toEqual([
      'ApiGatewayMethodApiStatsGet',
      'ApiGatewayMethodApiTasksBatchPost',
      'ApiGatewayMethodApiTasksCancelPost',
      'ApiGatewayMethodApiTasksGet',
      'ApiGatewayMethodApiTasksPost',
      'ApiGatewayMethodApiTasksRedrivePost',
      'ApiGatewayMethodApiTasksTaskidVarCancelPost',
      'ApiGatewayMethodApiTasksTaskidVarGet',
      'ApiGatewayMethodApiTasksTaskidVarRetryPost',
    ]);
    for (const m of task) expect(m.auth).toBe('AWS_IAM');
    for (const m of all.filter((m) => !task.includes(m))) expect(m.auth).toBe('NONE');
    expect(methods(resources).every((m) => m.auth === 'NONE')).toBe(true);
  });

  it('opens only with API_AUTH=none, and refuses to deploy with any other value', () => {
    expect(methods(packageTemplate('dev', { API_AUTH: 'none' })).every((m) => m.auth === 'NONE')).toBe(true);
    expect(() => packageTemplate('dev', { API_AUTH: 'nope' })).toThrow(/taskApiAuthorizer/);
  }, 120_000);

  it('sends every unknown method of a known path to the JSON 404, so a missing token only means unsigned: 403 FORBIDDEN', () => {
    const any = new Set(methods(deployed).filter((m) => m.method === 'ANY').map((m) => m.id.replace(/Any$/, '')));
    for (const { id } of methods(deployed).filter((m) => m.method !== 'ANY')) expect(any).toContain(id.replace(/(Get|Post)$/, ''));
    const responses = Object.fromEntries(byType('AWS::ApiGateway::GatewayResponse', deployed).map(([, r]) => [r.Properties.ResponseType, r.Properties]));
    for (const type of ['MISSING_AUTHENTICATION_TOKEN', 'INVALID_SIGNATURE', 'EXPIRED_TOKEN', 'ACCESS_DENIED']) {
      expect(responses[type]).toMatchObject({ StatusCode: '403' });
      expect(JSON.parse(responses[type].ResponseTemplates['application/json'].replace('$context.requestId', 'r'))).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect(responses.THROTTLED).toMatchObject({ StatusCode: '429', ResponseParameters: { 'gatewayresponse.header.Retry-After': "'1'" } });
    expect(responses.THROTTLED.ResponseTemplates['application/json']).toContain('"code":"TOO_MANY_REQUESTS"');
  });

  it('throttles the stage, and deploys the API only once its gateway responses exist', () => {
    const [[, deployment]] = byType('AWS::ApiGateway::Deployment', deployed) as [[string, Resource & { DependsOn: string[] }]];
    expect(deployment.Properties.StageDescription).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    const responses = byType('AWS::ApiGateway::GatewayResponse', deployed).map(([id]) => id);
    expect(responses.length).toBeGreaterThanOrEqual(7);
    expect(deployment.DependsOn).toEqual(expect.arrayContaining(responses));
  });

  it('traces every function with X-Ray (active), each role allowed to send its segments', () => {
    const functions = byType('AWS::Lambda::Function', deployed);
    expect(functions.length).toBeGreaterThanOrEqual(10);
    for (const [id, fn] of functions) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
      const actions = (deployed[roleId]!.Properties.Policies as Json[]).flatMap((p: Json) => p.PolicyDocument.Statement).flatMap((st: Json) => st.Action);
      expect({ id, actions }).toEqual({ id, actions: expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']) });
    }
  });
});

/**
 * The LocalStack services a resource needs, by its type: its own, and the ones LocalStack uses
 * behind it (a table with server-side encryption gets a KMS key: without `kms` the deploy fails
 * with `Table already exists`, as issue 19 found). A type missing here fails the check below.
 */
const SERVICES_BY_TYPE: Record<string, (resource: Resource) => string[]> = {
  'AWS::DynamoDB::Table': (table) => ['dynamodb', ...(table.Properties.SSESpecification?.SSEEnabled ? ['kms'] : [])],
  'AWS::SQS::Queue': () => ['sqs'],
  'AWS::SQS::QueuePolicy': () => ['sqs'],
  'AWS::Lambda::Function': () => ['lambda'],
  'AWS::Lambda::Version': () => ['lambda'],
  'AWS::Lambda::Permission': () => ['lambda'],
  'AWS::Lambda::EventSourceMapping': () => ['lambda'],
  'AWS::IAM::Role': () => ['iam'],
  'AWS::Logs::LogGroup': () => ['logs'],
  'AWS::S3::Bucket': () => ['s3'],
  'AWS::S3::BucketPolicy': () => ['s3'],
  'AWS::Events::Rule': () => ['events'],
  'AWS::Events::EventBus': () => ['events'],
  'AWS::SSM::Parameter': () => ['ssm'],
};
const servicesOfType = (type: string) => (type.startsWith('AWS::ApiGateway::') ? () => ['apigateway'] : SERVICES_BY_TYPE[type]);

/** What the stack needs of LocalStack: the deploy itself (CloudFormation, STS for the account), and each resource's services. */
function neededServices(template: Record<string, Resource>): string[] {
  const needed = new Set(['cloudformation', 'sts']);
  for (const [id, resource] of Object.entries(template)) {
    const services = servicesOfType(resource.Type);
    if (!services) throw new Error(`${id}: no LocalStack service known for ${resource.Type}; add it to SERVICES_BY_TYPE`);
    services(resource).forEach((service) => needed.add(service));
  }
  return [...needed].sort();
}

describe('docker-compose.yml', () => {
  it("enables in LocalStack every service the packaged localstack template needs, those behind its resources included", () => {
    const compose = parseYaml(readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8'));
    const enabled = String(compose.services.localstack.environment.SERVICES).split(',').map((name) => name.trim());
    expect(neededServices(resources).filter((service) => !enabled.includes(service))).toEqual([]);
  });
});
