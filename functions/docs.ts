import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { apiHandler } from '#lib/http/api-handler';
import { HttpRequestError } from '#lib/http/errors';
import { htmlPageHandler } from '#lib/http/html-page';
import { SWAGGER_ASSETS, SWAGGER_PAGE, swaggerAsset } from '#lib/http/swagger-ui';
import { logger } from '#lib/logger';

/** GET /api/docs: the Swagger UI page. */
export const page = htmlPageHandler(SWAGGER_PAGE);

const unknownAsset = apiHandler({}, async () => {
  throw new HttpRequestError(404, 'NOT_FOUND', 'No such document asset');
});

/** GET /api/docs/{asset}: Swagger UI's script and stylesheet; any other name is the contract's 404. */
export const assets = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context) => {
    const name = event.pathParameters?.asset ?? '';
    const body = swaggerAsset(name);
    if (body === undefined) return unknownAsset(event, context);
    return {
      statusCode: 200,
      headers: { 'Content-Type': SWAGGER_ASSETS[name]!, 'Cache-Control': 'public, max-age=86400' },
      body,
    };
  });
