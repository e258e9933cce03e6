import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Swagger UI, served by the service itself from the swagger-ui-dist package (no CDN). The files
 * are read from `node_modules/swagger-ui-dist` under the working directory: the project root
 * locally, the package root on Lambda, where `package.patterns` puts them.
 */
export const SWAGGER_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
};

const cache = new Map<string, string>();

export function swaggerAsset(name: string): string | undefined {
  if (!(name in SWAGGER_ASSETS)) return undefined;
  if (!cache.has(name)) cache.set(name, readFileSync(join(process.cwd(), 'node_modules', 'swagger-ui-dist', name), 'utf8'));
  return cache.get(name);
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
