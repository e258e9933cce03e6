import { DEFAULT_TRIGGER_CONCURRENCY, warmUp, warmUpPlan } from '../../local/embedded-stack';
import { readServiceDefinition, type ServiceDefinition } from '../../local/service-definition';

/**
 * The instances the embedded stack starts before its first request, read from the real
 * serverless.yml (`serverless print`, as the stack itself reads it): every instance is an isolate
 * of about 40 MB in serverless-offline's process (docs/performance.md, memory).
 */
let definition: ServiceDefinition;
beforeAll(async () => {
  definition = await readServiceDefinition('local');
}, 60_000);

const planAt = (concurrency: number) =>
  Object.fromEntries(
    warmUpPlan(definition, (trigger) => Math.min(concurrency, trigger.maximumConcurrency ?? Infinity)).map(({ functionKey, instances }) => [functionKey, instances]),
  );

describe('the warm-up plan of the embedded stack', () => {
  it("starts the task lanes at their triggers' concurrency: their first batches are what a client waits on", () => {
    expect(planAt(50)).toMatchObject({ processTasks: 50, processHighPriorityTasks: 10 });
    expect(planAt(DEFAULT_TRIGGER_CONCURRENCY)).toMatchObject({ processTasks: 10, processHighPriorityTasks: 10 });
  });

  it('starts one instance of every other queue-triggered function: callbacks and dead letters start more on demand', () => {
    expect(planAt(50)).toMatchObject({ deliverCallbacks: 1, failDeadLetters: 1 });
  });

  it('starts one instance of every API function, and nothing of a scheduled one', () => {
    const plan = planAt(50);
    expect(definition.apiFunctions.length).toBeGreaterThan(10);
    for (const functionKey of definition.apiFunctions) expect(plan[functionKey]).toBe(1);
    for (const { functionKey } of definition.schedules) expect(plan[functionKey]).toBeUndefined();
  });
});

describe('the warm-up pings', () => {
  const answer = { StatusCode: 200, Payload: Buffer.from('null') };
  const reset = () => Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET' });

  it('sends a ping again, once, when it never reached the function', async () => {
    const send = jest.fn().mockRejectedValueOnce(reset()).mockResolvedValue(answer);
    await expect(warmUp({ send }, 'f', 2)).resolves.toBeUndefined();
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('fails the start when the second ping is lost too, or when the function answered with an error', async () => {
    await expect(warmUp({ send: jest.fn().mockRejectedValue(reset()) }, 'f', 1)).rejects.toThrow('ECONNRESET');
    const failing = jest.fn().mockResolvedValue({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{"errorMessage":"boom"}') });
    await expect(warmUp({ send: failing }, 'f', 1)).rejects.toThrow('f failed: {"errorMessage":"boom"}');
    expect(failing).toHaveBeenCalledTimes(1);
  });
});
