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
 * Settings, from serverless.yml's `custom.localInstances`: `maxInstances` (default 4) for every
 * function, `<functionKey>` for one; the environment's LOCAL_MAX_INSTANCES_<functionKey> wins (the
 * stack sets a queue-triggered function's to its trigger's concurrency).
 *
 * serverless-offline's own pool (`LambdaFunctionPool`) is not exported; its `Lambda` class is
 * (`serverless-offline/lambda`), and every event source reaches an instance through
 * `Lambda.prototype.get(functionKey)`, then `setEvent`, then `runHandler`. That method is what is
 * wrapped; test/integration/lambda-instances.test.ts fails if a release changes the shape.
 */
const WRAPPED = Symbol.for('task-service.local-instances');

/** A counting semaphore whose waiters are served in arrival order. */
class Slots {
  constructor(size) {
    this.free = size;
    this.waiting = [];
  }

  async acquire() {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise((resolve) => this.waiting.push(resolve));
  }

  release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
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
    this.hooks = { 'before:offline:start:init': () => this.install() };
  }

  async install() {
    const { default: Lambda } = await import('serverless-offline/lambda');
    if (Lambda.prototype[WRAPPED]) return;
    const serverless = this.serverless;
    const originalGet = Lambda.prototype.get;
    const slotsByFunction = new Map();

    Lambda.prototype.get = function get(functionKey) {
      let slots = slotsByFunction.get(functionKey);
      if (!slots) {
        slots = new Slots(limitFor(serverless, functionKey));
        slotsByFunction.set(functionKey, slots);
      }
      // With a slot held, the pool has an idle instance or may start one: never more than the limit.
      const take = (event, clientContext) => {
        const instance = originalGet.call(this, functionKey);
        if (clientContext !== undefined) instance.setClientContext(clientContext);
        instance.setEvent(event);
        return instance.runHandler();
      };
      return new PendingInvocation(take, slots);
    };
    Lambda.prototype[WRAPPED] = true;
  }
}

module.exports = LocalLambdaInstances;
