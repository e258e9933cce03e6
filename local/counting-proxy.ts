import { createServer, request as httpRequest, type Server } from 'node:http';

/**
 * An HTTP proxy in front of an emulator that counts the AWS API calls going through it, by their
 * X-Amz-Target (`DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessage`): what the bench reports
 * as AWS requests per task.
 */
export interface CountingProxy {
  endpoint: string;
  counts(): Record<string, number>;
  reset(): void;
  stop(): Promise<void>;
}

export async function startCountingProxy(target: string, port: number): Promise<CountingProxy> {
  const upstream = new URL(target);
  let counts: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? 'unknown');
    counts[operation] = (counts[operation] ?? 0) + 1;
    const forward = httpRequest(
      { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    forward.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    reset: () => {
      counts = {};
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
