import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';

/**
 * A proxy between the functions and one emulator (DynamoDB Local or the SQS emulator), forwarding
 * with http-proxy-3 and injecting, while a fault is set, one fault into each request it picks:
 *
 * - `5xx`: an InternalServerError (500) in the service's own JSON error shape; the SDK retries it.
 * - `throttle`: a ThrottlingException (400); the SDK retries it with backoff.
 * - `latency`: the answer held past the SDK's request timeout, then sent.
 * - `reset`: the connection closed before anything is sent on.
 * - `drop-answer`: the request applied by the emulator, its answer never delivered (the connection
 *   closes): the write happened, the caller cannot know it.
 */
export const PROXY_FAULTS = ['5xx', 'throttle', 'latency', 'reset', 'drop-answer'] as const;
export type ProxyFault = (typeof PROXY_FAULTS)[number];

export interface FaultProxy {
  endpoint: string;
  /** Faults each request with probability `rate` until cleared (undefined). */
  setFault(fault: ProxyFault | undefined, rate?: number): void;
  /** Requests faulted so far, by fault. */
  injected: Record<ProxyFault, number>;
  close(): Promise<void>;
}

const ERROR_TYPES = {
  dynamodb: { '5xx': 'com.amazonaws.dynamodb.v20120810#InternalServerError', throttle: 'com.amazonaws.dynamodb.v20120810#ThrottlingException' },
  sqs: { '5xx': 'com.amazonaws.sqs#InternalError', throttle: 'com.amazonaws.sqs#ThrottlingException' },
};

export async function startFaultProxy(
  target: string,
  service: 'dynamodb' | 'sqs',
  { random = Math.random, latencyMs = 4_000 }: { random?: () => number; latencyMs?: number } = {},
): Promise<FaultProxy> {
  const proxy = createProxyServer({ target, selfHandleResponse: true });
  const injected = Object.fromEntries(PROXY_FAULTS.map((fault) => [fault, 0])) as Record<ProxyFault, number>;
  let current: { fault: ProxyFault; rate: number } | undefined;
  const dropAnswer = new WeakSet<IncomingMessage>();
  const delayAnswer = new WeakSet<IncomingMessage>();

  proxy.on('proxyRes', (proxyRes, req, res) => {
    const response = res as ServerResponse;
    if (dropAnswer.has(req)) {
      proxyRes.resume();
      response.socket?.destroy();
      return;
    }
    const send = () => {
      response.writeHead(proxyRes.statusCode ?? 502, proxyRes.headers);
      proxyRes.pipe(response);
    };
    if (delayAnswer.has(req)) setTimeout(send, latencyMs);
    else send();
  });
  // The emulator refused the connection or went away: what a caller would see of that.
  proxy.on('error', (_error, _req, res) => {
    const response = res as ServerResponse;
    if (!response.headersSent) response.socket?.destroy();
  });

  const server = createServer((req, res) => {
    const fault = current && random() < current.rate ? current.fault : undefined;
    if (fault) injected[fault]++;
    if (fault === '5xx' || fault === 'throttle') {
      // The request is read and discarded, as a service that failed before acting on it.
      req.resume();
      res.writeHead(fault === '5xx' ? 500 : 400, { 'Content-Type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: ERROR_TYPES[service][fault], message: `injected ${fault}` }));
      return;
    }
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'drop-answer') dropAnswer.add(req);
    if (fault === 'latency') delayAnswer.add(req);
    void proxy.web(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    setFault: (fault, rate = 0.5) => {
      current = fault ? { fault, rate } : undefined;
    },
    injected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        proxy.close();
      }),
  };
}
