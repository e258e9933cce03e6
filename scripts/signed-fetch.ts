// Calls a deployed stage with a SigV4-signed request (scripts/sigv4-client.ts):
//   npx tsx scripts/signed-fetch.ts POST https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/api/tasks '{"title":"t","description":"d"}'
import { signedFetch } from './sigv4-client';

const [method = 'GET', url, body] = process.argv.slice(2);
if (!url) throw new Error('usage: tsx scripts/signed-fetch.ts <METHOD> <URL> [JSON body]');
const response = await signedFetch(url, { method, ...(body === undefined ? {} : { body }) });
console.log(response.status, await response.text());
