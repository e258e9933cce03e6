import { htmlPageHandler, staticContentHandler } from '#lib/handlers/static-content';
import { SWAGGER_PAGE, swaggerAsset } from '#lib/http/swagger-ui';

/** GET /api/docs: the Swagger UI page. */
export const page = htmlPageHandler(SWAGGER_PAGE);

/** GET /api/docs/{asset}: Swagger UI's script and stylesheet; any other name is the contract's 404. */
export const assets = staticContentHandler(({ asset = '' }) => swaggerAsset(asset));
