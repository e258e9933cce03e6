import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent, request } from 'undici';
import { addressRefusal, callbackUrlRefusal, type CallbackPolicy } from '#lib/tasks/callback-policy';
import type { CallbackResponse, CallbackSender } from '#lib/tasks/ports';

/** An address a callback's host resolved to that the policy refuses. */
class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup that refuses a host if any address it resolves to is refused: checked where the
 * connection is made, so a name that resolves to a public address at submit and to a private one
 * at delivery (DNS rebinding) is refused too, and the address connected to is the one checked.
 */
export function guardedLookup(policy: CallbackPolicy, resolve: typeof lookup = lookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      const refusal = addresses.map(({ address }) => addressRefusal(address, policy)).find((reason) => reason !== undefined);
      if (refusal) return callback(new RefusedAddressError(`${hostname} resolves to ${refusal}`), []);
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function refusedIn(error: unknown): RefusedAddressError | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (current instanceof RefusedAddressError) return current;
  }
  return undefined;
}

/**
 * The callback's HTTP call (undici): a POST that follows no redirect (a redirect could lead
 * anywhere) and gives up after `timeoutMs`, through an agent whose every connection is checked
 * against the policy, so no callback reaches an address the stage refuses.
 */
export class HttpCallbackSender implements CallbackSender {
  private readonly agent: Agent;

  constructor(
    private readonly policy: CallbackPolicy,
    private readonly timeoutMs = 10_000,
  ) {
    this.agent = new Agent({ connect: { lookup: guardedLookup(policy), timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  async post(url: string, body: string, headers: Record<string, string>): Promise<CallbackResponse> {
    // The policy may have narrowed since the submit; an address written in the URL is never looked up, so it is checked here.
    const refusal = callbackUrlRefusal(new URL(url), this.policy);
    if (refusal) return { error: `refused: ${url} ${refusal}`, refused: true };
    try {
      const response = await request(url, { method: 'POST', body, headers, dispatcher: this.agent, signal: AbortSignal.timeout(this.timeoutMs) });
      await response.body.dump();
      return { statusCode: response.statusCode };
    } catch (error) {
      const refused = refusedIn(error);
      if (refused) return { error: `refused: ${refused.message}`, refused: true };
      return { error: `no answer: ${(error as Error).message}`, refused: false };
    }
  }
}
