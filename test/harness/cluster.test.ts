import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTROLLER_SERVICE_ACCOUNT, kubeconfigYaml, serviceAccountUser } from './cluster.ts';

describe('serviceAccountUser', () => {
  it('carries the user name and groups of a real ServiceAccount token', () => {
    expect(serviceAccountUser(CONTROLLER_SERVICE_ACCOUNT)).toEqual({
      user: 'system:serviceaccount:rebound-system:rebound-controller',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:rebound-system', 'system:authenticated'],
    });
  });
});

describe('kubeconfigYaml', () => {
  it('verifies TLS with the CA and selects the token user', () => {
    const config = parse(
      kubeconfigYaml({
        server: 'https://127.0.0.1:6443',
        caData: 'Q0E=',
        token: 'tok',
        userName: 'admin',
        namespace: 'team-a',
      }),
    ) as Record<string, unknown>;
    expect(config).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'rebound-local', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } },
      ],
      users: [{ name: 'admin', user: { token: 'tok' } }],
      contexts: [{ name: 'admin', context: { cluster: 'rebound-local', user: 'admin', namespace: 'team-a' } }],
      'current-context': 'admin',
    });
  });
});
