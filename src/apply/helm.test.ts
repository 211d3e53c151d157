import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { HelmApplier, helmUpgradeArgs, parseRevision } from './helm.ts';
import type { ApplyRequest } from './types.ts';

const request: ApplyRequest = {
  project: 'sockshop', stage: 'production', service: 'carts', namespace: 'sockshop-production',
  branch: 'production', commit: '0123456789abcdef', chartDir: '/w/carts/chart', valuesFile: '/w/carts/values.yaml',
};

/** A stand-in helm binary: a script that records its arguments and answers like helm would. */
function fakeHelm(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-helm-'));
  const path = join(dir, 'helm');
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('helmUpgradeArgs', () => {
  it('builds an argument list with install, namespace, values, timeout and json output', () => {
    expect(helmUpgradeArgs({ release: 'carts', chartDir: '/c', valuesFile: '/v.yaml', namespace: 'ns', timeoutSeconds: 30, kubeconfigPath: '/k' })).toEqual([
      'upgrade', 'carts', '/c', '--install', '--namespace', 'ns', '--create-namespace', '--values', '/v.yaml', '--timeout', '30s', '--output', 'json', '--kubeconfig', '/k',
    ]);
  });

  it('keeps hostile names as single arguments (no shell)', () => {
    const args = helmUpgradeArgs({ release: 'a; rm -rf /', chartDir: '/c', valuesFile: '/v', namespace: 'n', timeoutSeconds: 1 });
    expect(args[1]).toBe('a; rm -rf /');
  });
});

describe('parseRevision', () => {
  it('reads the release version from helm json output', () => {
    expect(parseRevision('{"name":"carts","version":3,"namespace":"x"}')).toBe(3);
    expect(parseRevision('WARNING: something\n{"version":7}')).toBe(7);
  });
  it('gives undefined for output without a revision', () => {
    expect(parseRevision('Release "carts" has been upgraded.')).toBeUndefined();
    expect(parseRevision('{not json')).toBeUndefined();
  });
});

describe('HelmApplier', () => {
  const homeDir = mkdtempSync(join(tmpdir(), 'helm-home-'));

  it('reports the revision helm printed', async () => {
    const helm = fakeHelm('echo \'{"name":"carts","version":4}\'');
    const result = await new HelmApplier({ helmPath: helm, homeDir }).apply(request);
    expect(result).toEqual({ applier: 'helm', helmRevision: 4, detail: 'helm release carts in sockshop-production at revision 4' });
  });

  it('puts the last lines of stderr into a non-retryable error for chart failures', async () => {
    const helm = fakeHelm('for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done; echo "Error: template: carts/templates/deployment.yaml:3: bad" >&2; exit 1');
    const err = await new HelmApplier({ helmPath: helm, homeDir }).apply(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundError);
    const e = err as ReboundError;
    expect(e.code).toBe('HelmUpgradeFailed');
    expect(e.reason).toBe('ApplyFailed');
    expect(e.retryable).toBe(false);
    expect(e.message).toBe('helm upgrade of carts in sockshop-production failed: line 4\nline 5\nline 6\nline 7\nError: template: carts/templates/deployment.yaml:3: bad');
  });

  it('marks connection failures as retryable', async () => {
    const helm = fakeHelm('echo "Error: Kubernetes cluster unreachable: dial tcp 127.0.0.1:1: connect: connection refused" >&2; exit 1');
    const err = await new HelmApplier({ helmPath: helm, homeDir }).apply(request).catch((e: unknown) => e);
    expect((err as ReboundError).retryable).toBe(true);
  });

  it('refuses to run without a chart', async () => {
    const err = await new HelmApplier({ homeDir }).apply({ ...request, chartDir: undefined }).catch((e: unknown) => e);
    expect((err as ReboundError).code).toBe('HelmChartMissing');
  });

  it('names a missing helm binary', async () => {
    const err = await new HelmApplier({ helmPath: '/nonexistent/helm', homeDir }).apply(request).catch((e: unknown) => e);
    expect((err as ReboundError).code).toBe('HelmNotRunnable');
  });
});

