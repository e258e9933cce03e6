import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from '../../local/processes';
import { invokeFunction } from '../../local/embedded-stack';
import { serverlessBin } from '../../local/service-definition';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators';

/**
 * The embedded stack runs every function through serverless-offline with the settings in
 * serverless.yml. This runs a probe function with those same settings and checks Lambda's instance
 * model: overlapping invocations get instances of their own (module state never shared), and an
 * idle instance is reused.
 */
const fixture = join(__dirname, '..', 'fixtures', 'lambda-instances');
let offline: ManagedProcess;
let lambda: LambdaClient;

interface ProbeAnswer {
  instance: string;
  runningAtStart: number;
  invocations: number;
}
const probe = (holdMs: number) => invokeFunction(lambda, 'lambda-instances-local-probe', { holdMs }) as Promise<ProbeAnswer>;

beforeAll(async () => {
  const [port, lambdaPort] = await Promise.all([freePort(), freePort()]);
  offline = startProcess(process.execPath, [serverlessBin(process.cwd()), 'offline', 'start', '--stage', 'local'], {
    ...process.env,
    PORT: String(port),
    LAMBDA_PORT: String(lambdaPort),
    SLS_TELEMETRY_DISABLED: '1',
  }, false, undefined, fixture);
  lambda = new LambdaClient({
    endpoint: `http://127.0.0.1:${lambdaPort}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  await waitUntilReady('serverless-offline', () => probe(0), offline, 60_000);
}, 90_000);

afterAll(async () => {
  lambda?.destroy();
  await offline?.stop();
});

describe('functions in the embedded stack', () => {
  it('run overlapping invocations in instances of their own, and reuse an idle instance', async () => {
    const [first, second] = await Promise.all([probe(400), new Promise((resolve) => setTimeout(resolve, 100)).then(() => probe(0))]);
    expect(first!.runningAtStart).toBe(1);
    expect(second!.runningAtStart).toBe(1);
    expect(second!.instance).not.toBe(first!.instance);

    // Both instances are idle now: the next invocation is served warm by one of them.
    const third = await probe(0);
    expect([first!.instance, second!.instance]).toContain(third.instance);
    expect(third.invocations).toBeGreaterThan(1);
  });
});
