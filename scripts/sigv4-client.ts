// How a client calls a deployed stage, whose task endpoints require AWS SigV4: each request is signed
// for API Gateway (`execute-api`) with the default credential chain (AWS_PROFILE, environment, SSO,
// role). scripts/signed-fetch.ts is its command line.
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';

export interface SignedFetchOptions {
  region?: string;
  credentials?: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
}

/** `fetch`, with the request signed by SigV4 for API Gateway. */
export async function signedFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  { region = process.env.AWS_REGION ?? 'us-east-1', credentials = defaultProvider() }: SignedFetchOptions = {},
): Promise<Response> {
  const target = new URL(url);
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({
    method: init.method ?? 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { host: target.host, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  // fetch sets Host itself, to the same value the signature covers.
  const { host: _host, ...headers } = signed.headers;
  return fetch(url, { method: signed.method, headers, ...(init.body === undefined ? {} : { body: init.body }) });
}
