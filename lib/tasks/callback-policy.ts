import ipaddr from 'ipaddr.js';

/**
 * Which callback URLs a stage calls: a service must not be made to call its own network (the
 * instance metadata endpoint, a database on a private subnet) by whoever may submit a task.
 */
export interface CallbackPolicy {
  /** Host patterns a callback_url may name: `*` (any host), `hooks.example.com` (that host), `*.example.com` (its subdomains). */
  hosts: readonly string[];
  /**
   * Networks (CIDR) of addresses that are not public but may be called anyway: the embedded stack's
   * loopback. Every other loopback, private, link-local or otherwise special address is refused.
   */
  privateNetworks: readonly string[];
}

/** Any host, public addresses only. */
export const DEFAULT_CALLBACK_POLICY: CallbackPolicy = { hosts: ['*'], privateNetworks: [] };

const HOST_PATTERN = /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/;

const listOf = (text: string) =>
  text
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0);

/** The policy of CALLBACK_ALLOWED_HOSTS and CALLBACK_ALLOWED_PRIVATE_NETWORKS (comma-separated); throws on an entry it cannot read. */
export function parseCallbackPolicy(hosts: string, privateNetworks: string): CallbackPolicy {
  const policy = { hosts: listOf(hosts), privateNetworks: listOf(privateNetworks) };
  const badHost = policy.hosts.find((host) => !HOST_PATTERN.test(host));
  if (badHost) throw new Error(`"${badHost}" is not a host pattern (a host name, *.domain, or *)`);
  const badNetwork = policy.privateNetworks.find((network) => !ipaddr.isValidCIDR(network));
  if (badNetwork) throw new Error(`"${badNetwork}" is not a network in CIDR notation (e.g. 127.0.0.0/8)`);
  return policy;
}

function hostAllowed(host: string, policy: CallbackPolicy): boolean {
  return policy.hosts.some((pattern) => pattern === '*' || pattern === host || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1))));
}

/**
 * Why a call to `address` is refused, or undefined when it may be made: a public (unicast) address,
 * or one inside an allowed private network. An IPv4 address written as IPv6 (`::ffff:10.0.0.1`)
 * is judged as the IPv4 address it is.
 */
export function addressRefusal(address: string, policy: CallbackPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  const allowed = policy.privateNetworks.some((network) => {
    const cidr = ipaddr.parseCIDR(network);
    return cidr[0].kind() === parsed.kind() && parsed.match(cidr);
  });
  return allowed ? undefined : `${address} is a ${range} address, which callbacks may not reach (CALLBACK_ALLOWED_PRIVATE_NETWORKS)`;
}

/**
 * Why a callback_url is refused at submit, or undefined: its host must match the allow-list, and a
 * host written as an address (or `localhost`) must be one that may be called. A host name is
 * resolved only when it is called, and every address it resolves to is checked then, so a name
 * that points at a private address later is refused too.
 */
export function callbackUrlRefusal(url: URL, policy: CallbackPolicy): string | undefined {
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (!hostAllowed(host, policy)) return `host ${host} is not allowed on this stage (CALLBACK_ALLOWED_HOSTS)`;
  const literal = ipaddr.isValid(host) ? host : host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : undefined;
  const refusal = literal === undefined ? undefined : addressRefusal(literal, policy);
  return refusal && `must not name a non-public address: ${refusal}`;
}
