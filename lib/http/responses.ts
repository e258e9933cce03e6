/** What an API handler answers: a JSON `body`, a `raw` text body (its Content-Type in `headers`), or neither (a 304). */
export interface ApiResponse {
  statusCode: number;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** Content that is not JSON (an HTML page, Swagger UI's assets), served as it is. */
export interface StaticContent {
  body: string;
  contentType: string;
  cacheControl: string;
}
