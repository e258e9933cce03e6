import { apiHandler } from '#lib/handlers/api';
import { openApiDocument } from '#lib/http/openapi';

// Built once per container: it only depends on the code.
const document = openApiDocument();

/** GET /api/openapi.json: the OpenAPI document generated from the handlers' zod schemas. */
export const handler = apiHandler({}, async () => ({ statusCode: 200, body: document }));
