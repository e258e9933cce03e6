import { apiHandler } from '#lib/handlers/api';
import { HttpRequestError } from '#lib/http/errors';

/** Every route the API does not have: the contract's JSON 404 rather than the gateway's own page. */
export const handler = apiHandler({}, async () => {
  throw new HttpRequestError(404, 'NOT_FOUND', 'No such route');
});
