import { describe, expect, it } from 'vitest';
import { bearerToken, isAuthorized, presentedAuthorization } from './auth.ts';
import { mediaType } from './body.ts';
import { fieldPathSegments, joinPath } from './fields.ts';
import { parseAddress } from './server.ts';

describe('isAuthorized', () => {
  const tokens = ['s3cret-token-one', 'rotated-token-two'];
  it.each([
    { header: 'Bearer s3cret-token-one', ok: true },
    { header: 'bearer rotated-token-two', ok: true },
    { header: 'Bearer s3cret-token-one ', ok: true },
    { header: undefined, ok: false },
    { header: '', ok: false },
    { header: 'Bearer ', ok: false },
    { header: 'Basic czNjcmV0LXRva2VuLW9uZQ==', ok: false },
    { header: 'Bearer s3cret-token-on', ok: false },
    { header: 'Bearer s3cret-token-one-and-more', ok: false },
    { header: 'Bearer s3cret-token-one extra', ok: false },
  ])('$header → $ok', ({ header, ok }) => {
    expect(isAuthorized(header, tokens)).toBe(ok);
  });

  it('refuses everything when there are no tokens (fail closed), and ignores empty tokens', () => {
    expect(isAuthorized('Bearer x', [])).toBe(false);
    expect(isAuthorized('Bearer ', [''])).toBe(false);
    expect(bearerToken('Bearer ')).toBeUndefined();
  });
});

describe('presentedAuthorization', () => {
  it("takes the Authorization header, else Keptn's x-token as a bearer token", () => {
    expect(presentedAuthorization({ authorization: 'Bearer a' })).toBe('Bearer a');
    expect(presentedAuthorization({ 'x-token': 'k' })).toBe('Bearer k');
    expect(presentedAuthorization({ authorization: 'Bearer a', 'x-token': 'k' })).toBe('Bearer a');
    expect(presentedAuthorization({ 'x-token': ['k', 'l'] })).toBeUndefined();
    expect(presentedAuthorization({})).toBeUndefined();
  });
});

describe('mediaType and parseAddress', () => {
  it.each([
    { header: 'application/json', type: 'application/json', utf8: true },
    { header: 'Application/JSON; charset=UTF-8', type: 'application/json', utf8: true },
    { header: 'application/cloudevents+json; charset="utf-8"', type: 'application/cloudevents+json', utf8: true },
    { header: 'application/json; charset=latin1', type: 'application/json', utf8: false },
  ])('$header', ({ header, type, utf8 }) => {
    expect(mediaType(header)).toEqual({ type, utf8 });
  });

  it('parses host:port and rejects the rest', () => {
    expect(parseAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseAddress(':9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseAddress('8080')).toThrow(/host:port/);
    expect(() => parseAddress('127.0.0.1:70000')).toThrow(/host:port/);
  });
});

describe('fieldPathSegments', () => {
  it.each([
    { field: '(root)', segments: [] },
    { field: 'alerts[1].labels.project', segments: ['alerts', 1, 'labels', 'project'] },
    { field: 'data.labels["Problem URL"]', segments: ['data', 'labels', 'Problem URL'] },
    { field: 'spec.state', segments: ['spec', 'state'] },
  ])('$field', ({ field, segments }) => {
    expect(fieldPathSegments(field)).toEqual(segments);
  });

  it('round-trips joinPath', () => {
    const path = joinPath(joinPath(joinPath('alerts', 3), 'annotations'), 'problem title');
    expect(fieldPathSegments(path)).toEqual(['alerts', 3, 'annotations', 'problem title']);
  });
});
