import addFormats from 'ajv-formats';
import { OpenAPIBackend, SetMatchType, type Document, type Operation } from 'openapi-backend';
import { stackEnv } from './stack-env';

/**
 * Every answer the end-to-end suites get from the API is checked against the OpenAPI document the
 * service serves, by openapi-backend (its Ajv validators): the status must be documented for the
 * operation, the body must match the documented schema of that status, and documented required
 * headers must be there. A route the document does not know must answer the contract's JSON 404.
 * A test that received an undocumented answer fails, naming it.
 */
const { apiUrl } = stackEnv();
const apiBase = new URL(apiUrl);
/** Where the stage's paths start: the API URL without its `/api`. */
const stageRoot = apiBase.pathname.replace(/\/api\/?$/, '');
const realFetch = globalThis.fetch;
let api: Promise<OpenAPIBackend> | undefined;
const violations: string[] = [];

/** One validator for the file, made from the served document on first use (concurrent calls share it). */
function validator(): Promise<OpenAPIBackend> {
  api ??= (async () => {
    const definition = (await (await realFetch(`${apiUrl}/openapi.json`)).json()) as Document;
    // strict: an invalid document fails the run instead of being warned about. The document's
    // formats (uuid, date-time) are checked, not ignored with a warning each time.
    const backend = new OpenAPIBackend({ definition, quick: false, validate: true, strict: true, customizeAjv: (ajv) => addFormats(ajv) });
    await backend.init();
    return backend;
  })();
  return api;
}

function check(method: string, url: URL, status: number, headers: Headers, body: unknown, backend: OpenAPIBackend) {
  // The document's paths are the stage's (/api/..., /dashboard); a stack may serve the stage under
  // a prefix (LocalStack's /_aws/execute-api/<id>/<stage>), which is taken off every path.
  const path = url.pathname.startsWith(stageRoot) ? url.pathname.slice(stageRoot.length) : url.pathname;
  const where = `${method} ${path} -> ${status}`;
  const operation = backend.matchOperation({ method, path, headers: {}, query: {} }) as Operation | undefined;
  if (!operation) {
    // A documented path asked with another method is the contract's 405 with Allow; any other route
    // its 404. Both bodies are the Error schema, as getTask documents it for its 404.
    const servedMethods = ['get', 'post', 'put', 'patch', 'delete'].filter((other) => backend.matchOperation({ method: other, path, headers: {}, query: {} }));
    const expected = servedMethods.length > 0 ? 405 : 404;
    if (status !== expected || backend.validateResponse(body, 'getTask', 404).errors?.length) {
      violations.push(`${where}: ${expected === 405 ? "an unserved method of a known path must answer the contract's JSON 405" : "an unknown route must answer the contract's JSON 404"}`);
    } else if (expected === 405 && headers.get('allow') !== servedMethods.map((m) => m.toUpperCase()).join(', ')) {
      violations.push(`${where}: Allow must name ${servedMethods.join(', ')}, not ${headers.get('allow')}`);
    }
    return;
  }
  const documented = Object.keys(operation.responses ?? {});
  if (!documented.includes(String(status))) {
    violations.push(`${where}: status not documented (documented: ${documented.join(', ')})`);
    return;
  }
  const contentType = headers.get('content-type') ?? '';
  if (contentType.startsWith('application/json')) {
    const result = backend.validateResponse(body, operation, status);
    if (result.errors?.length) violations.push(`${where}: body does not match the document: ${JSON.stringify(result.errors)}`);
  }
  const result = backend.validateResponseHeaders(Object.fromEntries(headers.entries()), operation, { statusCode: status, setMatchType: SetMatchType.Superset });
  if (result.errors?.length) violations.push(`${where}: headers do not match the document: ${JSON.stringify(result.errors)}`);
}

globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
  const response = await realFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.origin !== apiBase.origin) return response;
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toLowerCase();
  const text = await response.clone().text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: only a documented non-JSON content may be so (pages, assets).
  }
  check(method, url, response.status, response.headers, body, await validator());
  return response;
};

afterEach(() => {
  const found = violations.splice(0);
  if (found.length > 0) throw new Error(`Answers that the OpenAPI document does not describe:\n${found.join('\n')}`);
});
