/**
 * The methods each route of the API serves, by its API Gateway resource: what a `405` names in its
 * `Allow` header. Every other method of these paths reaches the notFound function through its `any`
 * events (serverless.yml); test/unit/routes.test.ts fails when this table and serverless.yml differ.
 */
export const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/api/tasks': ['GET', 'POST'],
  '/api/tasks/batch': ['POST'],
  '/api/tasks/{task_id}': ['GET'],
  '/api/tasks/{task_id}/cancel': ['POST'],
  '/api/tasks/{task_id}/retry': ['POST'],
  '/api/tasks/redrive': ['POST'],
  '/api/tasks/cancel': ['POST'],
  '/api/health': ['GET'],
  '/api/stats': ['GET'],
  '/api/openapi.json': ['GET'],
  '/api/docs': ['GET'],
  '/api/docs/{asset}': ['GET'],
  '/dashboard': ['GET'],
};

/** The methods `resource` serves, or undefined for a path the API does not have. */
export const allowedMethods = (resource: string): readonly string[] | undefined => ROUTES[resource];
