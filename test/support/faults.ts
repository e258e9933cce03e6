import { createServer, type Socket } from 'node:net';
import type { MiddlewareStack } from '@smithy/types';

/**
 * Makes a real SDK client fail the calls `shouldFail` picks (by operation name, `BatchWriteItem`),
 * before they are sent and without retries, as a dependency that refuses them would: the rest of
 * the client's calls reach the emulator as usual.
 */
export function failCalls<Input extends object, Output extends object>(
  client: { middlewareStack: MiddlewareStack<Input, Output> },
  shouldFail: (operation: string) => boolean,
): void {
  client.middlewareStack.add(
    (next, context) => (args) => {
      const operation = String(context.commandName).replace(/Command$/, '');
      if (shouldFail(operation)) {
        return Promise.reject(Object.assign(new Error(`injected failure of ${operation}`), { name: 'ServiceUnavailable', $fault: 'server' }));
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectFailures' },
  );
}

/** An endpoint that accepts connections and never answers: a dependency past every timeout. */
export async function silentEndpoint(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
