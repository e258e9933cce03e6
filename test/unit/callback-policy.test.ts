import { addressRefusal, callbackUrlRefusal, parseCallbackPolicy, DEFAULT_CALLBACK_POLICY } from '#lib/tasks/callback-policy';

const loopbackAllowed = parseCallbackPolicy('*', '127.0.0.0/8,::1/128');
const onlyExample = parseCallbackPolicy('hooks.example.com,*.example.org', '');

describe('callback addresses', () => {
  it.each([
    ['203.0.113.10', 'reserved'],
    ['8.8.8.8', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
  ])('%s is %s: only a public address is callable by default', (address, range) => {
    const refusal = addressRefusal(address, DEFAULT_CALLBACK_POLICY);
    if (range === 'public') expect(refusal).toBeUndefined();
    else expect(refusal).toContain(`a ${range} address`);
  });

  it('allows a non-public address only inside an allowed network, of its own family', () => {
    expect(addressRefusal('127.0.0.1', loopbackAllowed)).toBeUndefined();
    expect(addressRefusal('::1', loopbackAllowed)).toBeUndefined();
    expect(addressRefusal('::ffff:127.0.0.1', loopbackAllowed)).toBeUndefined();
    expect(addressRefusal('10.0.0.1', loopbackAllowed)).toContain('private');
    expect(addressRefusal('169.254.169.254', loopbackAllowed)).toContain('linkLocal');
  });
});

describe('callback URLs at submit', () => {
  const refusalOf = (url: string, policy = DEFAULT_CALLBACK_POLICY) => callbackUrlRefusal(new URL(url), policy);

  it('takes a public host by name, and any host the pattern list names', () => {
    expect(refusalOf('https://hooks.example.com/tasks')).toBeUndefined();
    expect(refusalOf('https://hooks.example.com/x', onlyExample)).toBeUndefined();
    expect(refusalOf('https://a.b.example.org/x', onlyExample)).toBeUndefined();
  });

  it('refuses a host the list does not name, a subdomain pattern matching only subdomains, and any address literal not on the list', () => {
    expect(refusalOf('https://evil.example.net/', onlyExample)).toMatch(/not allowed on this stage/);
    expect(refusalOf('https://example.org/', onlyExample)).toMatch(/not allowed/);
    expect(refusalOf('https://notexample.org/', onlyExample)).toMatch(/not allowed/);
    expect(refusalOf('https://8.8.8.8/', onlyExample)).toMatch(/not allowed/);
  });

  it('refuses addresses written in the URL that may not be called, localhost included, and credentials', () => {
    expect(refusalOf('http://169.254.169.254/latest/meta-data/')).toMatch(/linkLocal/);
    expect(refusalOf('http://[fe80::1]/')).toMatch(/linkLocal/);
    expect(refusalOf('http://localhost:8080/')).toMatch(/loopback/);
    expect(refusalOf('http://api.localhost/')).toMatch(/loopback/);
    expect(refusalOf('http://localhost:8080/', loopbackAllowed)).toBeUndefined();
    expect(refusalOf('https://user:pw@hooks.example.com/')).toBe('must not carry credentials');
  });

  it('reads the stage settings, and refuses a pattern or network it cannot read', () => {
    expect(parseCallbackPolicy(' Hooks.Example.com , *.example.org ', '')).toEqual({ hosts: ['hooks.example.com', '*.example.org'], privateNetworks: [] });
    expect(() => parseCallbackPolicy('hooks.*.com', '')).toThrow(/not a host pattern/);
    expect(() => parseCallbackPolicy('*', '10.0.0.0')).toThrow(/CIDR/);
  });
});
