/** Base of every error the service raises on purpose; anything else is a bug and becomes a 500. */
export abstract class ServiceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A dependency (DynamoDB, SQS, EventBridge) failed or did not answer. The cause keeps the AWS error for the
 * log; clients only ever see a generic message.
 */
export class DependencyUnavailableError extends ServiceError {
  constructor(
    readonly dependency: 'task store' | 'task queue' | 'event bus' | 'callback queue',
    options?: ErrorOptions,
  ) {
    super(`The ${dependency} is unavailable`, options);
  }
}
