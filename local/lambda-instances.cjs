'use strict';

/**
 * serverless-offline plugin: the embedded stack's functions get Lambda's instance life cycle on a
 * machine of two cores.
 *
 * serverless-offline runs each invocation in a worker thread of its own and starts a new one
 * whenever none is idle, with no bound: a burst of 100 requests starts 100 isolates at once, each
 * loading its bundle and opening its own connections, and for tens of seconds the machine does
 * little else (DynamoDB Local's answers pass the SDK's timeouts, submits answer 503). On AWS each
 * of those instances would have a machine of its own. Here, as Lambda does when a function's
 * concurrency is reserved, a function runs at most `maxInstances` instances at once and an
 * invocation beyond that waits for one to be free (Lambda would throttle it; locally the caller
 * waits, as an SQS poller or a client's retry would).
 *
 * The time budget still counts as on Lambda: from the handler's start. Time spent waiting for an
 * instance is not in it (the worker's clock starts when it is given the invocation), nor is an
 * instance's initialisation (serverless-offline loads the module before it starts the clock, as
 * Lambda's init phase has its own limit): test/integration/lambda-instances.test.ts shows both.
 *
 * A reload (serverless-esbuild rebuilds a changed file and spawns `offline:functionsUpdated`, on
 * which serverless-offline stops every instance, busy or not) waits for the running invocations to
 * finish, as a Lambda deployment lets them finish on the old code, and holds new ones until the
 * instances are gone: they start on the new code. Without that, an instance stopped under an
 * invocation never answers it, and its slot is never freed: a few reloads with tasks in flight and
 * a function takes no more invocations. An invocation still running after the longest function
 * timeout is failed when its instance stops, so its slot is freed all the same.
 *
 * Settings, from serverless.yml's `custom.localInstances`: `maxInstances` (default 4) for every
 * function, `<functionKey>` for one; the environment's LOCAL_MAX_INSTANCES_<functionKey> wins (the
 * stack sets a queue-triggered function's to its trigger's concurrency). `warmToTriggerConcurrency`
 * is the stack's own (which instances it starts before the first request, `warmUpPlan`).
 *
 * serverless-offline's own pool (`LambdaFunctionPool`) is not exported; its `Lambda` class is
 * (`serverless-offline/lambda`), and every event source reaches an instance through
 * `Lambda.prototype.get(functionKey)`, then `setEvent`, then `runHandler`. That method is what is
 * wrapped; test/integration/lambda-instances.test.ts fails if a release changes the shape.
 */
const WRAPPED = Symbol.for('task-service.local-instances');

/** A counting semaphore whose waiters are served in arrival order, and that can be closed while its holders finish. */
class Slots {
  constructor(size) {
    this.size = size;
    this.free = size;
    this.waiting = [];
    this.closed = false;
    this.whenAllFree = [];
  }

  get held() {
    return this.size - this.free;
  }

  async acquire() {
    if (!this.closed && this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise((resolve) => this.waiting.push(resolve));
  }

  release() {
    const next = this.closed ? undefined : this.waiting.shift();
    if (next) return next();
    this.free += 1;
    if (this.free === this.size) this.whenAllFree.splice(0).forEach((resolve) => resolve());
  }

  /** Hands out no slot until `open()`; resolves once every held slot is released. */
  close() {
    this.closed = true;
    return this.free === this.size ? Promise.resolve() : new Promise((resolve) => this.whenAllFree.push(resolve));
  }

  open() {
    this.closed = false;
    while (this.free > 0 && this.waiting.length > 0) {
      this.free -= 1;
      this.waiting.shift()();
    }
  }
}

const STOPPED = Symbol('task-service.local-instances.stopped');

/**
 * Settles when serverless-offline stops `instance` (its `cleanup()`): what an invocation running on
 * it is raced against, since a stopped worker thread never answers.
 */
function whenStopped(instance) {
  if (!instance[STOPPED]) {
    const listeners = new Set();
    const cleanup = instance.cleanup.bind(instance);
    instance.cleanup = () => {
      listeners.forEach((listener) => listener());
      return cleanup();
    };
    instance[STOPPED] = listeners;
  }
  const listeners = instance[STOPPED];
  let listener;
  const stopped = new Promise((resolve) => {
    listener = resolve;
    listeners.add(listener);
  });
  return { stopped, forget: () => listeners.delete(listener) };
}

async function runUntilStopped(instance, functionKey) {
  const { stopped, forget } = whenStopped(instance);
  try {
    return await Promise.race([
      instance.runHandler(),
      stopped.then(() => {
        throw new Error(`${functionKey}: its instance was stopped during the invocation (the code was reloaded)`);
      }),
    ]);
  } finally {
    forget();
  }
}

/** What `Lambda.get` answers now: the instance is chosen only once a slot is free. */
class PendingInvocation {
  constructor(take, slots) {
    this.take = take;
    this.slots = slots;
    this.event = undefined;
    this.clientContext = undefined;
  }

  setEvent(event) {
    this.event = event;
  }

  setClientContext(clientContext) {
    this.clientContext = clientContext;
  }

  async runHandler() {
    await this.slots.acquire();
    try {
      return await this.take(this.event, this.clientContext);
    } finally {
      this.slots.release();
    }
  }
}

function limitFor(serverless, functionKey) {
  const settings = serverless.service.custom?.localInstances ?? {};
  const configured = process.env[`LOCAL_MAX_INSTANCES_${functionKey}`] ?? settings[functionKey] ?? settings.maxInstances ?? 4;
  const limit = Number(configured);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`localInstances: the most instances of ${functionKey} must be a whole number of 1 or more, not ${configured}`);
  }
  return limit;
}

class LocalLambdaInstances {
  constructor(serverless) {
    this.serverless = serverless;
    this.slotsByFunction = new Map();
    this.reloading = false;
    this.hooks = {
      'before:offline:start:init': () => this.install(),
      'before:offline:functionsUpdated:cleanup': () => this.finishRunningInvocations(),
      'after:offline:functionsUpdated:cleanup': () => {
        this.reloading = false;
        this.slotsByFunction.forEach((slots) => slots.open());
      },
    };
  }

  /** Before serverless-offline stops every instance for a reload: no new invocation starts, and the running ones end (at most the longest function timeout). */
  async finishRunningInvocations() {
    this.reloading = true;
    const running = [...this.slotsByFunction.values()].reduce((sum, slots) => sum + slots.held, 0);
    const drained = Promise.all([...this.slotsByFunction.values()].map((slots) => slots.close()));
    if (running === 0) return;
    const timeouts = Object.values(this.serverless.service.functions ?? {}).map((definition) => Number(definition.timeout ?? 6));
    const longestMs = (Math.max(this.serverless.service.provider?.timeout ?? 6, ...timeouts) + 5) * 1000;
    console.log(`Code changed: reloading once ${running} running invocation${running === 1 ? '' : 's'} finish${running === 1 ? 'es' : ''}`);
    let timer;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, longestMs)))]);
    clearTimeout(timer);
  }

  async install() {
    const { default: Lambda } = await import('serverless-offline/lambda');
    if (Lambda.prototype[WRAPPED]) return;
    const isReloading = () => this.reloading;
    const serverless = this.serverless;
    const originalGet = Lambda.prototype.get;
    const slotsByFunction = this.slotsByFunction;

    Lambda.prototype.get = function get(functionKey) {
      let slots = slotsByFunction.get(functionKey);
      if (!slots) {
        slots = new Slots(limitFor(serverless, functionKey));
        if (isReloading()) slots.close();
        slotsByFunction.set(functionKey, slots);
      }
      // With a slot held, the pool has an idle instance or may start one: never more than the limit.
      const take = (event, clientContext) => {
        const instance = originalGet.call(this, functionKey);
        if (clientContext !== undefined) instance.setClientContext(clientContext);
        instance.setEvent(event);
        return runUntilStopped(instance, functionKey);
      };
      return new PendingInvocation(take, slots);
    };
    Lambda.prototype[WRAPPED] = true;
  }
}

module.exports = LocalLambdaInstances;
