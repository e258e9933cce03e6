import { deliverCallback } from '#lib/container';
import { sqsBatchHandler } from '#lib/handlers/sqs-batch';

/** SQS trigger of the callback queue: POSTs each ended task's event to its callback_url, signed; a failed call comes back after its backoff. */
export const createHandler = (deliver: typeof deliverCallback) => sqsBatchHandler(deliver);

export const handler = createHandler(deliverCallback);
