import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { freePort, startProcess, waitUntilReady, type ManagedProcess } from '../../local/processes';
import { invokeFunction } from '../../local/embedded-stack';
import { serverlessBin } from '../../local/service-definition';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators';

/**
 * The embedded stack runs every function through serverless-offline with the settings in
 * serverless.yml and the instance plugin (local/lambda-instances.cjs). This runs a probe function
 * (timeout 10 s, 3 s of initialisation, at most 2 instances) with those same settings and checks
 * Lambda's instance model: overlapping invocations get instances of their own (module state never
 * shared), an idle instance is reused, no more instances run than the limit (the others wait), and
 * an instance's initialisation does not count against its first invocation's time; and when the
 * code is reloaded (serverless-esbuild rebuilds a changed file), a running invocation finishes.
 */
const fixture = join(__dirname, '..', 'fixtures', 'lambda-instances');
const TIMEOUT_MS = 10_000;
const INIT_MS = 3_000;
let offline: ManagedProcess;
let lambda: LambdaClient;
let firstAnswer: ProbeAnswer;
const outputLines: string[] = [];

interface ProbeAnswer {
  instance: string;
  runningAtStart: number;
  invocations: number;
  remainingAtStart: number;
}
/** Polls until `condition` holds: no test here waits a fixed time for something to happen. */
async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > giveUpAt) throw new Error(`Still waiting for ${what} after ${timeoutMs} ms`);
    await sleep(20);
  }
}
const probe = (holdMs: number) => invokeFunction(lambda, 'lambda-instances-local-probe', { holdMs }) as Promise<ProbeAnswer>;

beforeAll(async () => {
  const [port, lambdaPort] = await Promise.all([freePort(), freePort()]);
  offline = startProcess(process.execPath, [serverlessBin(process.cwd()), 'offline', 'start', '--stage', 'local'], {
    ...process.env,
    PORT: String(port),
    LAMBDA_PORT: String(lambdaPort),
    SLS_TELEMETRY_DISABLED: '1',
  }, false, (line) => outputLines.push(line), fixture);
  lambda = new LambdaClient({
    endpoint: `http://127.0.0.1:${lambdaPort}`,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  // The first invocation that reaches a handler is the first of a cold instance.
  await waitUntilReady('serverless-offline', async () => (firstAnswer = await probe(0)), offline, 60_000);
}, 90_000);

afterAll(async () => {
  lambda?.destroy();
  await offline?.stop();
});

describe('functions in the embedded stack', () => {
  it("count a new instance's time budget from its handler's start, not from before its initialisation", () => {
    expect(firstAnswer.invocations).toBe(1);
    // Counted from before the 3 s of init, about 7 s would be left; from the handler's start, about 10 s.
    expect(firstAnswer.remainingAtStart).toBeGreaterThan(TIMEOUT_MS - INIT_MS / 2);
  });

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

  it('run no more instances than the limit: an invocation beyond it waits for a free one, its budget untouched', async () => {
    // Six invocations of 1 s on two instances: the last two wait about 2 s for theirs.
    const answers = await Promise.all(Array.from({ length: 6 }, () => probe(1_000)));
    expect(answers.every((answer) => answer.runningAtStart === 1)).toBe(true);
    expect(new Set(answers.map((answer) => answer.instance)).size).toBeLessThanOrEqual(2);
    // The wait is not the function's time: each starts with about its whole budget.
    expect(Math.min(...answers.map((answer) => answer.remainingAtStart))).toBeGreaterThan(TIMEOUT_MS - 1_000);
  });

  it('let a running invocation finish when the code is reloaded, then serve the next one from a fresh instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambda-reload-'));
    const started = join(dir, 'started');
    const release = join(dir, 'release');
    const running = invokeFunction(lambda, 'lambda-instances-local-probe', { startedFile: started, holdUntilFile: release }) as Promise<ProbeAnswer>;
    await until(() => existsSync(started), 'the invocation to start');
    offline.child.kill('SIGUSR2');
    await until(() => outputLines.includes('reload requested'), 'the reload to be requested');
    writeFileSync(release, '');
    // Were its instance stopped under it, the invocation would never answer.
    const answer = await Promise.race([running, sleep(15_000, undefined, { ref: false }).then(() => undefined)]);
    expect(answer?.instance).toBeDefined();

    const next = await probe(0);
    expect(next.instance).not.toBe(answer!.instance);
    expect(next.invocations).toBe(1);
  }, 60_000);
});
