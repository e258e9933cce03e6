import { apiHandler } from '#lib/handlers/api';
import { HttpRequestError } from '#lib/http/errors';
import { allowedMethods } from '#lib/http/routes';

/**
 * What the API has no handler for, in the contract's JSON rather than the gateway's own page: a
 * method a known path does not serve is `405` with `Allow`; any other route is `404`.
 */
export const handler = apiHandler({}, async ({ resource }) => {
  const allowed = allowedMethods(resource);
  if (allowed) {
    throw new HttpRequestError(405, 'METHOD_NOT_ALLOWED', `This path serves ${allowed.join(', ')}`, [], { Allow: allowed.join(', ') });
  }
  throw new HttpRequestError(404, 'NOT_FOUND', 'No such route');
});
