import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StaticContent } from './responses';

/**
 * Swagger UI, served by the service itself from the swagger-ui-dist package (no CDN). The files
 * are read from `node_modules/swagger-ui-dist` under the working directory: the project root
 * locally, the package root on Lambda, where `package.patterns` puts them.
 */
// A Map, not an object: a name such as `constructor` or `__proto__` must find nothing.
const SWAGGER_ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'application/javascript; charset=utf-8'],
]);

const cache = new Map<string, string>();

export function swaggerAsset(name: string): StaticContent | undefined {
  const contentType = SWAGGER_ASSETS.get(name);
  if (contentType === undefined) return undefined;
  if (!cache.has(name)) cache.set(name, readFileSync(join(process.cwd(), 'node_modules', 'swagger-ui-dist', name), 'utf8'));
  return { body: cache.get(name)!, contentType, cacheControl: 'public, max-age=86400' };
}

/** The page: relative URLs, so it works under any base path (API Gateway stage, LocalStack). */
export const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Task service API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#swagger-ui' });
  </script>
</body>
</html>
`;
