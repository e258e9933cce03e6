import { DEFAULT_TRIGGER_CONCURRENCY, warmUpPlan } from '../../local/embedded-stack';
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
