import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A team's webhook endpoint on loopback, for the tests and the chaos run (the local stages allow
 * 127.0.0.0/8): `/ok/<name>` answers 200, `/flaky/<n>/<name>` answers 500 to its first n calls and
 * 200 after, `/down/<name>` always 500. It keeps every call, to be checked afterwards.
 */
export async function startCallbackReceiver(): Promise<{ url(path: string): string; calls(path?: string): ReceivedCallback[]; stop(): Promise<void> }> {
  const received: ReceivedCallback[] = [];
  const server: Server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body: Buffer.concat(parts).toString() });
      const flaky = /^\/flaky\/(\d+)\//.exec(path);
      const earlier = received.filter((call) => call.path === path).length;
      const ok = path.startsWith('/ok/') || (flaky !== null && earlier > Number(flaky[1]));
      response.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' }).end(ok ? 'thanks' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    calls: (path) => received.filter((call) => path === undefined || call.path === path),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
