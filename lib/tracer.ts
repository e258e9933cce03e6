import type * as PowertoolsTracer from '@aws-lambda-powertools/tracer';

type Tracer = PowertoolsTracer.Tracer;

/**
 * Whether Powertools' Tracer could record here: it turns itself off when POWERTOOLS_TRACE_ENABLED is
 * `false`, outside Lambda (no AWS_EXECUTION_ENV), under `sam local` and under Amplify's mock. These
 * are its own tests, read in its `setTracingEnabled`; where this answers true it still applies them.
 */
export function tracingPossible(env: NodeJS.ProcessEnv = process.env): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return (
    (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false' &&
    executionEnv !== '' &&
    executionEnv !== 'AWS_Lambda_amplify-mock' &&
    (env.AWS_SAM_LOCAL ?? '') === ''
  );
}

/**
 * One X-Ray tracer per container where tracing can be on (the deployed stages, with active tracing),
 * and none elsewhere (npm start, the tests, LocalStack), where it is not even loaded: requiring
 * aws-xray-sdk-core enables cls-hooked's async hook, on or off, and every promise of every
 * invocation then pays for it (300,000 awaits: 25 ms without it, 340 ms with it; the same report as
 * aws/aws-xray-sdk-node#420). `require`, not `import`: esbuild evaluates an imported module when the
 * bundle loads, and a required one when the call runs.
 */
function loadTracer(): Tracer | undefined {
  if (!tracingPossible()) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only where it can record (above)
  const { Tracer } = require('@aws-lambda-powertools/tracer') as typeof PowertoolsTracer;
  return new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'task-service' });
}

export const tracer = loadTracer();

/** The client, its calls recorded as subsegments of the invocation's trace where tracing is on. */
export function withXRay<Client>(client: Client): Client {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
