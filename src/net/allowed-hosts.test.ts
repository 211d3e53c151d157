import { describe, expect, it } from 'vitest';
import { checkAllowedUrl } from './allowed-hosts.ts';

describe('checkAllowedUrl', () => {
  const cases: { url: string; allowed: string[]; ok: boolean; why: string }[] = [
    // exact host, any port
    { url: 'https://hooks.example.com/run', allowed: ['hooks.example.com'], ok: true, why: 'listed host' },
    {
      url: 'http://hooks.example.com:8080/run',
      allowed: ['hooks.example.com'],
      ok: true,
      why: 'a host entry allows any port',
    },
    {
      url: 'https://HOOKS.Example.COM/run',
      allowed: ['hooks.example.com'],
      ok: true,
      why: 'URL host case is normalised',
    },
    { url: 'https://hooks.example.com/run', allowed: ['Hooks.EXAMPLE.com'], ok: true, why: 'entry case is normalised' },
    { url: 'https://other.example.com/', allowed: ['hooks.example.com'], ok: false, why: 'another host' },
    {
      url: 'https://hooks.example.com.evil.io/',
      allowed: ['hooks.example.com'],
      ok: false,
      why: 'a listed name as a prefix',
    },
    {
      url: 'https://evilhooks.example.com/',
      allowed: ['hooks.example.com'],
      ok: false,
      why: 'a listed name as a suffix',
    },
    {
      url: 'https://hooks.example.com./',
      allowed: ['hooks.example.com'],
      ok: false,
      why: 'trailing dot is another name',
    },
    { url: 'https://ex%61mple.com/', allowed: ['example.com'], ok: true, why: 'percent-encoded host is decoded' },
    { url: 'https://bücher.de/', allowed: ['xn--bcher-kva.de'], ok: true, why: 'IDN compared as punycode' },
    { url: 'https://xn--bcher-kva.de/', allowed: ['bücher.de'], ok: true, why: 'IDN entry compared as punycode' },
    // host:port
    { url: 'https://hooks.example.com:8443/', allowed: ['hooks.example.com:8443'], ok: true, why: 'listed port' },
    { url: 'https://hooks.example.com:9443/', allowed: ['hooks.example.com:8443'], ok: false, why: 'other port' },
    {
      url: 'https://hooks.example.com/',
      allowed: ['hooks.example.com:443'],
      ok: true,
      why: 'https default port is 443',
    },
    { url: 'http://hooks.example.com/', allowed: ['hooks.example.com:80'], ok: true, why: 'http default port is 80' },
    { url: 'http://hooks.example.com/', allowed: ['hooks.example.com:443'], ok: false, why: 'http is not on 443' },
    {
      url: 'https://hooks.example.com:443/',
      allowed: ['hooks.example.com:0443'],
      ok: true,
      why: 'port compared as a number',
    },
    // wildcard
    { url: 'https://a.example.com/', allowed: ['*.example.com'], ok: true, why: 'subdomain' },
    { url: 'https://a.b.example.com/', allowed: ['*.example.com'], ok: true, why: 'deeper subdomain' },
    { url: 'https://example.com/', allowed: ['*.example.com'], ok: false, why: 'wildcard excludes the domain itself' },
    {
      url: 'https://badexample.com/',
      allowed: ['*.example.com'],
      ok: false,
      why: 'wildcard matches whole labels only',
    },
    { url: 'https://a.example.com:8443/', allowed: ['*.example.com:8443'], ok: true, why: 'wildcard with port' },
    { url: 'https://a.example.com/', allowed: ['*.example.com:8443'], ok: false, why: 'wildcard with another port' },
    { url: 'http://1.10.0.0.1/', allowed: ['*.10.0.0.1'], ok: false, why: 'wildcard over an IP literal is invalid' },
    // IPv4 literals, in normalised form
    { url: 'http://127.0.0.1:8080/', allowed: ['127.0.0.1'], ok: true, why: 'IPv4 literal' },
    {
      url: 'http://2130706433/',
      allowed: ['127.0.0.1'],
      ok: true,
      why: 'decimal IPv4 parses to 127.0.0.1, the host really called',
    },
    { url: 'http://0x7f.0.0.1/', allowed: ['127.0.0.1'], ok: true, why: 'hex IPv4 parses to 127.0.0.1' },
    {
      url: 'http://2130706433/',
      allowed: ['localhost', 'hooks.example.com'],
      ok: false,
      why: 'numeric spelling does not match a name',
    },
    { url: 'http://0x7f.0.0.1/', allowed: ['2130706433'], ok: true, why: 'entry normalised the same way' },
    {
      url: 'http://169.254.169.254/latest/meta-data/',
      allowed: ['hooks.example.com'],
      ok: false,
      why: 'metadata endpoint',
    },
    { url: 'http://127.0.0.2/', allowed: ['127.0.0.1'], ok: false, why: 'another address' },
    // IPv6 literals
    { url: 'http://[::1]:8080/', allowed: ['[::1]'], ok: true, why: 'IPv6 literal' },
    { url: 'http://[0:0:0:0:0:0:0:1]/', allowed: ['[::1]'], ok: true, why: 'IPv6 compressed before comparing' },
    { url: 'http://[::1]:8080/', allowed: ['[0::1]:8080'], ok: true, why: 'IPv6 entry with port' },
    { url: 'http://[::1]:9090/', allowed: ['[::1]:8080'], ok: false, why: 'IPv6 other port' },
    {
      url: 'http://[::ffff:127.0.0.1]/',
      allowed: ['127.0.0.1'],
      ok: false,
      why: 'IPv4-mapped IPv6 is another literal',
    },
    { url: 'http://[::1]/', allowed: ['::1'], ok: false, why: 'an IPv6 entry needs brackets' },
    // schemes, credentials, malformed
    { url: 'ftp://hooks.example.com/', allowed: ['hooks.example.com'], ok: false, why: 'ftp' },
    { url: 'file:///etc/passwd', allowed: ['hooks.example.com'], ok: false, why: 'file' },
    { url: 'https://user:pw@hooks.example.com/', allowed: ['hooks.example.com'], ok: false, why: 'userinfo' },
    { url: 'https://user@hooks.example.com/', allowed: ['hooks.example.com'], ok: false, why: 'user without password' },
    { url: 'hooks.example.com/run', allowed: ['hooks.example.com'], ok: false, why: 'not absolute' },
    { url: 'https://hooks.example.com/', allowed: [], ok: false, why: 'empty list allows nothing' },
    { url: 'https://hooks.example.com/', allowed: ['*'], ok: false, why: 'a bare star is no entry' },
    {
      url: 'https://hooks.example.com/',
      allowed: ['hooks.example.com/'],
      ok: false,
      why: 'entry with a path is invalid',
    },
    {
      url: 'https://hooks.example.com/',
      allowed: ['x@hooks.example.com'],
      ok: false,
      why: 'entry with userinfo is invalid',
    },
    {
      url: 'https://hooks.example.com/',
      allowed: ['https://hooks.example.com'],
      ok: false,
      why: 'entry with a scheme is invalid',
    },
    {
      url: 'https://hooks.example.com:0/',
      allowed: ['hooks.example.com:0'],
      ok: false,
      why: 'port 0 entry is invalid',
    },
  ];

  it.each(cases)('$url with $allowed → $ok ($why)', ({ url, allowed, ok }) => {
    expect(checkAllowedUrl(url, allowed).ok).toBe(ok);
  });

  it('returns the parsed URL to call', () => {
    const result = checkAllowedUrl('https://Hooks.example.com:8443/run?x=1', ['hooks.example.com']);
    expect(result.ok && result.url.href).toBe('https://hooks.example.com:8443/run?x=1');
  });

  it('names the refused host and where to list it, never the path or query', () => {
    const result = checkAllowedUrl('https://evil.example.io:8443/hook/T0KEN?sig=s3cret', ['hooks.example.com']);
    expect(result).toEqual({
      ok: false,
      reason:
        `host "evil.example.io:8443" is not allowed: it must be listed in the Remediation's spec.webhook.allowedHosts, ` +
        `as "evil.example.io" or "evil.example.io:8443"`,
    });
  });

  it('says so when the list is empty, with the default port spelled out', () => {
    const result = checkAllowedUrl('https://hooks.example.com/x', []);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toBe(
      `host "hooks.example.com" is not allowed: the Remediation's spec.webhook.allowedHosts is empty; list the host there as "hooks.example.com" or "hooks.example.com:443"`,
    );
  });

  it('points out entries it could not read', () => {
    const result = checkAllowedUrl('https://hooks.example.com/', ['https://hooks.example.com', '*.10.0.0.1']);
    expect(!result.ok && result.reason).toMatch(
      /entries ignored as invalid: "https:\/\/hooks\.example\.com", "\*\.10\.0\.0\.1"\)$/,
    );
  });

  it.each([
    ['ftp://hooks.example.com/', /scheme "ftp" is not allowed: only http and https/],
    ['https://user:s3cret@hooks.example.com/', /carries credentials/],
    ['not a url', /not a valid absolute URL/],
  ])('explains why %s is refused without echoing secrets', (url, reason) => {
    const result = checkAllowedUrl(url, ['hooks.example.com']);
    expect(!result.ok && result.reason).toMatch(reason);
    expect(!result.ok && result.reason).not.toContain('s3cret');
  });
});
