import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One X-Ray tracer per container. It records only where Lambda runs with active tracing (the
 * deployed stages); elsewhere (npm start, the tests, LocalStack) it is off and passes clients through.
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'task-service' });
