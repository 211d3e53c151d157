import { describe, expect, it } from 'vitest';
import { actionValueLabel } from '../actions/types.ts';
import { REDACTED, describeUrl, scrubberFor } from './scrub.ts';

describe('scrubberFor', () => {
  const token = 'unleash-pat-9f8e7d6c5b4a';
  const user = 'runbook-bot';
  const password = 'p@ss w0rd/+x';
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it.each([
    ['the raw token', token],
    ['the Authorization header', `Bearer ${token}`],
    ['the token percent-encoded', encodeURIComponent(`${token}!`)],
    ['the token inside a JSON string', JSON.stringify({ headers: { authorization: `Bearer ${token}` } })],
  ])('removes %s', (_name, echoed) => {
    const scrub = scrubberFor({ headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } });
    const out = scrub(`error: request had ${echoed}`);
    expect(out).not.toContain(token);
    expect(out).toContain(REDACTED);
  });

  it.each([
    ['the header value', basic],
    ['the base64 alone', basic.slice(6)],
    ['the decoded user:password', `${user}:${password}`],
    ['the password alone', password],
    ['the password percent-encoded', encodeURIComponent(password)],
    ['the password form-encoded', encodeURIComponent(password).replace(/%20/g, '+')],
    ['the pair in JSON', JSON.stringify(`${user}:${password}`)],
  ])('removes every form of Basic credentials: %s', (_name, echoed) => {
    const out = scrubberFor({ headers: { authorization: basic } })(`401 Unauthorized for ${echoed}`);
    expect(out).not.toContain(password);
    expect(out).not.toContain(encodeURIComponent(password));
    expect(out).not.toContain(basic.slice(6));
  });

  it('removes URL userinfo in every spelling, and keeps the user name alone', () => {
    const url = `https://${user}:${encodeURIComponent(password)}@hooks.example.com/run`;
    const scrub = scrubberFor({ url });
    for (const echoed of [url, `${user}:${password}`, `${user}:${encodeURIComponent(password)}`, password]) {
      expect(scrub(echoed)).not.toMatch(/p@ss|p%40ss/);
    }
    expect(scrub(`user ${user} refused`)).toBe(`user ${user} refused`);
  });

  it('leaves text alone when nothing secret was sent, and ignores plain headers and short values', () => {
    const scrub = scrubberFor({ headers: { 'Content-Type': 'application/json', 'X-Short': 'abc' } });
    expect(scrub('application/json abc')).toBe('application/json abc');
  });
});

describe('describeUrl', () => {
  it('drops userinfo, query and fragment', () => {
    expect(describeUrl('https://u:secret@example.com:8443/a/b?token=x#f')).toBe('https://example.com:8443/a/b');
    expect(describeUrl('not a url')).toBe('(an invalid URL)');
  });
});

describe('actionValueLabel', () => {
  it.each([
    ['https://ops:hunter22@runbooks.example.com/restart?token=abc', 'https://runbooks.example.com/restart'],
    ['ops:hunter22@runbooks.example.com/restart', '[redacted]@runbooks.example.com/restart'],
    ['+1', '+1'],
    ['NewCheckout:off', 'NewCheckout:off'],
    ['restart-carts', 'restart-carts'],
  ])('shows %s as %s', (value, shown) => {
    expect(actionValueLabel(value)).toBe(shown);
  });
});
