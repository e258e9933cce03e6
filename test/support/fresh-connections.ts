import { Agent } from 'undici';

/**
 * Every `fetch` of the suites opens a connection of its own (undici's `pipelining: 0`), never one
 * kept alive from an earlier request. A kept-alive socket idles in the pool of the Jest worker,
 * which runs file after file: while the worker is busy loading the next file on a loaded machine,
 * the server's keep-alive timeout (5 s) closes the socket before the client's own timer (4 s)
 * gets to, and the next request on it fails with `other side closed`. On localhost a connection
 * costs well under a millisecond.
 */
const fresh = new Agent({ pipelining: 0 });
const realFetch = globalThis.fetch;
globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => realFetch(input, { ...init, dispatcher: fresh } as RequestInit);
