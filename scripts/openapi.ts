// Writes docs/openapi.json, the API reference carried by the repository; `npm test` fails when it
// differs from what the handlers' schemas generate (test/unit/openapi.test.ts).
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '#lib/http/openapi';

export const OPENAPI_FILE = new URL('../docs/openapi.json', import.meta.url);

writeFileSync(OPENAPI_FILE, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`wrote ${OPENAPI_FILE.pathname}`);
