import { spawnSync } from 'node:child_process';
import { tracingPossible } from '#lib/tracer';
import type * as TracerModule from '#lib/tracer';

const LAMBDA = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };

/** lib/tracer.ts loaded afresh under `env`, with Powertools' Tracer replaced by a fake that counts its loads. */
function loadTracerModule(env: NodeJS.ProcessEnv) {
  const loads: string[] = [];
  class FakeTracer {
    captureAWSv3Client<Client>(client: Client): Client {
      loads.push('captured');
      return client;
    }
  }
  const saved = { ...process.env };
  let module!: typeof TracerModule;
  try {
    for (const name of ['AWS_EXECUTION_ENV', 'POWERTOOLS_TRACE_ENABLED', 'AWS_SAM_LOCAL']) delete process.env[name];
    Object.assign(process.env, env);
    jest.isolateModules(() => {
      jest.doMock('@aws-lambda-powertools/tracer', () => {
        loads.push('loaded');
        return { Tracer: FakeTracer };
      });
      module = jest.requireActual('#lib/tracer');
    });
  } finally {
    process.env = saved;
    jest.dontMock('@aws-lambda-powertools/tracer');
  }
  return { module, loads, FakeTracer };
}

describe('the X-Ray tracer', () => {
  it('is not even loaded where it could not record, and clients pass through untouched', () => {
    for (const env of [{}, { ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'false' }, { ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'FALSE' }]) {
      const { module, loads } = loadTracerModule(env);
      const client = { send: jest.fn() };
      expect(module.tracer).toBeUndefined();
      expect(module.withXRay(client)).toBe(client);
      expect(loads).toEqual([]);
    }
  });

  it('is loaded once, and captures the clients, where it could record', () => {
    const { module, loads, FakeTracer } = loadTracerModule(LAMBDA);
    expect(module.tracer).toBeInstanceOf(FakeTracer);
    module.withXRay({ send: jest.fn() });
    expect(loads).toEqual(['loaded', 'captured']);
  });

  it('could record only where Powertools would let it', () => {
    expect(tracingPossible({})).toBe(false);
    expect(tracingPossible(LAMBDA)).toBe(true);
    expect(tracingPossible({ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
    expect(tracingPossible({ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'False' })).toBe(false);
    expect(tracingPossible({ ...LAMBDA, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingPossible({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });

  // Why it is loaded lazily. Should a release of the X-Ray SDK stop hooking every async resource
  // when required, this fails, and lib/tracer.ts can import the Tracer plainly again.
  it('(the reason) enables an async hook for the whole process as soon as it is required, tracing on or off', () => {
    const script = `
      const asyncHooks = require('node:async_hooks');
      const createHook = asyncHooks.createHook;
      let hooks = 0;
      asyncHooks.createHook = (callbacks) => { hooks += 1; return createHook(callbacks); };
      require('@aws-lambda-powertools/tracer');
      process.stdout.write(String(hooks));`;
    const run = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, POWERTOOLS_TRACE_ENABLED: 'false' }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(Number(run.stdout)).toBeGreaterThan(0);
  });
});
