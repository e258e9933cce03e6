import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedFetch } from '../../scripts/sigv4-client';

describe('the SigV4 client of a deployed stage (scripts/sigv4-client.ts)', () => {
  it('signs method, path, query, host and body for execute-api in the region', async () => {
    let received: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string } | undefined;
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received = { method: request.method, url: request.url, headers: request.headers, body };
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const response = await signedFetch(
        `http://127.0.0.1:${port}/prod/api/tasks?limit=5`,
        { method: 'POST', body: '{"title":"t","description":"d"}' },
        { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
      );
      expect(response.status).toBe(200);
    } finally {
      server.close();
    }
    expect(received).toMatchObject({ method: 'POST', url: '/prod/api/tasks?limit=5', body: '{"title":"t","description":"d"}' });
    expect(received!.headers.host).toBe(`127.0.0.1:${port}`);
    expect(received!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(received!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
  });
});
