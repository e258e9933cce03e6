import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Emulator } from './emulators';

/** An entry as the local bus received it, its Detail parsed. */
export interface ReceivedEvent {
  id: string;
  bus: string;
  source: string;
  detail_type: string;
  time: string | null;
  detail: Record<string, unknown>;
  received_at: string;
}

interface PutEventsEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number | string;
}

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part)).on('end', () => resolve(Buffer.concat(parts).toString())).on('error', reject);
  });

const answer = (response: ServerResponse, status: number, body: unknown, contentType = 'application/json') => {
  response.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
};

/**
 * The embedded stack's EventBridge: it takes PutEvents (the JSON protocol the SDK speaks, pointed
 * here by AWS_ENDPOINT_URL_EVENTBRIDGE) and keeps what it received, for the tests and the chaos run
 * to read (`GET /events?task_id=`). It matches no rules: the stack's one consumer of events (the
 * callbacks) is fed by the publisher itself. `POST /refusals` makes it answer a task's entries as
 * failed until `DELETE /refusals/<task_id>`: a publisher that cannot publish, for the relay's test.
 */
export async function startLocalEventBus(port: number): Promise<Emulator & { events(): ReceivedEvent[] }> {
  const received: ReceivedEvent[] = [];
  const refused = new Map<string, number>();

  const putEvents = (body: string) => {
    const { Entries = [] } = JSON.parse(body) as { Entries?: PutEventsEntry[] };
    const results = Entries.map((entry) => {
      const detail = JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>;
      const taskId = typeof detail.task_id === 'string' ? detail.task_id : '';
      if (refused.has(taskId)) {
        refused.set(taskId, refused.get(taskId)! + 1);
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'Refused by the test (POST /refusals)' };
      }
      const id = randomUUID();
      const time = entry.Time === undefined ? null : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time).toISOString();
      received.push({ id, bus: entry.EventBusName ?? 'default', source: entry.Source ?? '', detail_type: entry.DetailType ?? '', time, detail, received_at: new Date().toISOString() });
      return { EventId: id };
    });
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  };

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      try {
        if (request.method === 'POST' && request.headers['x-amz-target'] === 'AWSEvents.PutEvents') {
          return answer(response, 200, putEvents(await readBody(request)), 'application/x-amz-json-1.1');
        }
        if (request.method === 'GET' && url.pathname === '/events') {
          const taskId = url.searchParams.get('task_id');
          return answer(response, 200, { events: taskId ? received.filter((event) => event.detail.task_id === taskId) : received });
        }
        if (request.method === 'POST' && url.pathname === '/refusals') {
          const { task_id: taskId } = JSON.parse(await readBody(request)) as { task_id: string };
          refused.set(taskId, 0);
          return answer(response, 200, {});
        }
        const refusal = /^\/refusals\/([0-9a-f-]{36})$/.exec(url.pathname);
        if (refusal && request.method === 'GET') return answer(response, 200, { refused: refused.get(refusal[1]!) ?? 0 });
        if (refusal && request.method === 'DELETE') {
          refused.delete(refusal[1]!);
          return answer(response, 200, {});
        }
        return answer(response, 400, { __type: 'UnknownOperationException', message: `${request.method} ${url.pathname} is not served here` }, 'application/x-amz-json-1.1');
      } catch (error) {
        return answer(response, 400, { __type: 'ValidationException', message: (error as Error).message }, 'application/x-amz-json-1.1');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: process.pid,
    events: () => [...received],
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
