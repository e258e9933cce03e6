import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A CloudFormation resource as `serverless print` shows it. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

/** An `sqs` event of a function: what Lambda's event source mapping would do on AWS. */
export interface SqsTrigger {
  functionKey: string;
  functionName: string;
  queueLogicalId: string;
  batchSize: number;
  maximumBatchingWindow: number;
  reportBatchItemFailures: boolean;
  maximumConcurrency?: number;
}

/** A `schedule: rate(...)` event of a function: what EventBridge would do on AWS. */
export interface Schedule {
  functionKey: string;
  functionName: string;
  everyMs: number;
}

/** What the embedded stack needs to know of serverless.yml: the same file AWS deploys from. */
export interface ServiceDefinition {
  service: string;
  stage: string;
  resources: Record<string, CfnResource>;
  triggers: SqsTrigger[];
  schedules: Schedule[];
  /** The keys of the functions behind API Gateway (`http` events). */
  apiFunctions: string[];
  /** provider.environment's plain values (references to resources left out): what every function is given. */
  environment: Record<string, string>;
  /** custom.localInstances.warmToTriggerConcurrency: the functions started at their triggers' concurrency before the first request. */
  warmToTriggerConcurrency: string[];
}

const RATE_UNITS_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** `rate(5 minutes)` in milliseconds; cron expressions are not run locally. */
export function parseRate(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+(minute|hour|day)s?\)$/.exec(expression.trim());
  return match ? Number(match[1]) * RATE_UNITS_MS[match[2]!]! : undefined;
}

interface PrintedService {
  service: string | { name: string };
  functions: Record<string, { events?: Array<Record<string, unknown>> }>;
  resources?: { Resources?: Record<string, CfnResource> };
  provider?: { environment?: Record<string, unknown> };
  custom?: { localInstances?: { warmToTriggerConcurrency?: string[] } };
}

export const serverlessBin = (projectRoot: string) => join(projectRoot, 'node_modules', 'serverless', 'bin', 'serverless.js');

/** Resolves serverless.yml for `stage` with the Serverless Framework itself (`serverless print`). */
export async function readServiceDefinition(stage: string, projectRoot = process.cwd()): Promise<ServiceDefinition> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [serverlessBin(projectRoot), 'print', '--stage', stage, '--format', 'json'],
    { cwd: projectRoot, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' }, maxBuffer: 16 * 1024 * 1024 },
  );
  return parseServiceDefinition(JSON.parse(stdout.slice(stdout.indexOf('{'))) as PrintedService, stage);
}

export function parseServiceDefinition(printed: PrintedService, stage: string): ServiceDefinition {
  const service = typeof printed.service === 'string' ? printed.service : printed.service.name;
  const triggers: SqsTrigger[] = [];
  const schedules: Schedule[] = [];
  const apiFunctions: string[] = [];
  for (const [functionKey, fn] of Object.entries(printed.functions)) {
    if (fn.events?.some((event) => event.http !== undefined)) apiFunctions.push(functionKey);
    for (const event of fn.events ?? []) {
      const schedule = event.schedule as string | { rate?: string | string[] } | undefined;
      if (schedule) {
        const rates = typeof schedule === 'string' ? [schedule] : [schedule.rate ?? []].flat();
        for (const everyMs of rates.map(parseRate)) {
          if (everyMs) schedules.push({ functionKey, functionName: `${service}-${stage}-${functionKey}`, everyMs });
        }
      }
      const sqs = event.sqs as Record<string, unknown> | undefined;
      if (!sqs) continue;
      const arn = sqs.arn as { 'Fn::GetAtt'?: [string, string] } | string;
      const logicalId = typeof arn === 'object' ? arn['Fn::GetAtt']?.[0] : undefined;
      if (!logicalId) throw new Error(`${functionKey}: the embedded stack needs sqs.arn as !GetAtt <Queue>.Arn`);
      triggers.push({
        functionKey,
        functionName: `${service}-${stage}-${functionKey}`,
        queueLogicalId: logicalId,
        batchSize: Number(sqs.batchSize ?? 10),
        maximumBatchingWindow: Number(sqs.maximumBatchingWindow ?? 0),
        reportBatchItemFailures: sqs.functionResponseType === 'ReportBatchItemFailures',
        ...(sqs.maximumConcurrency === undefined ? {} : { maximumConcurrency: Number(sqs.maximumConcurrency) }),
      });
    }
  }
  const environment = Object.fromEntries(
    Object.entries(printed.provider?.environment ?? {}).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value]] : [])),
  );
  const warmToTriggerConcurrency = printed.custom?.localInstances?.warmToTriggerConcurrency ?? [];
  const unknown = warmToTriggerConcurrency.filter((functionKey) => !triggers.some((trigger) => trigger.functionKey === functionKey));
  if (unknown.length > 0) throw new Error(`custom.localInstances.warmToTriggerConcurrency names no queue-triggered function: ${unknown.join(', ')}`);
  return { service, stage, resources: printed.resources?.Resources ?? {}, triggers, schedules, apiFunctions, environment, warmToTriggerConcurrency };
}
