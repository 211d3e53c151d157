import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { HelmApplier, helmUpgradeArgs, parseRevision } from './helm.ts';
import type { ApplyRequest } from './types.ts';

const request: ApplyRequest = {
  project: 'sockshop',
  stage: 'production',
  service: 'carts',
  namespace: 'sockshop-production',
  branch: 'production',
  commit: '0123456789abcdef',
  chartDir: '/w/carts/chart',
  valuesFile: '/w/carts/values.yaml',
};

/**
 * A stand-in helm binary: `upgrade` runs `script`; `get metadata` prints `metadata` (default: no
 * release yet), `history` prints `history`; every call is appended to `calls`.
 */
function fakeHelm(script: string, release: { metadata?: string; history?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-helm-'));
  const path = join(dir, 'helm');
  const metadata =
    release.metadata === undefined ? `echo 'Error: release: not found' >&2; exit 1` : `echo '${release.metadata}'`;
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      `echo "$*" >> ${dir}/calls`,
      'case "$1" in',
      `  get) ${metadata} ;;`,
      `  history) echo '${release.history ?? '[]'}' ;;`,
      '  rollback|uninstall) echo ok ;;',
      `  *) ${script} ;;`,
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

const callsOf = (helm: string): string[] =>
  readFileSync(join(dirname(helm), 'calls'), 'utf8')
    .trim()
    .split('\n');

describe('helmUpgradeArgs', () => {
  it('builds an argument list with install, namespace, values, timeout and json output', () => {
    expect(
      helmUpgradeArgs({
        release: 'carts',
        chartDir: '/c',
        valuesFile: '/v.yaml',
        namespace: 'ns',
        timeoutSeconds: 30,
        kubeconfigPath: '/k',
      }),
    ).toEqual([
      'upgrade',
      'carts',
      '/c',
      '--install',
      '--namespace',
      'ns',
      '--create-namespace',
      '--values',
      '/v.yaml',
      '--timeout',
      '30s',
      '--output',
      'json',
      '--kubeconfig',
      '/k',
    ]);
  });

  it('keeps hostile names as single arguments (no shell)', () => {
    const args = helmUpgradeArgs({
      release: 'a; rm -rf /',
      chartDir: '/c',
      valuesFile: '/v',
      namespace: 'n',
      timeoutSeconds: 1,
    });
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

  it('reports the revision helm printed, and that the release rolls out', async () => {
    const helm = fakeHelm('echo \'{"name":"carts","version":4}\'');
    const result = await new HelmApplier({ helmPath: helm, homeDir }).apply(request);
    expect(result).toEqual({
      applier: 'helm',
      helmRevision: 4,
      detail: 'helm release carts in sockshop-production at revision 4',
      // The loop waits for the release's workloads before the change counts as live.
      rollout: true,
    });
  });

  it('puts the last lines of stderr into a non-retryable error for chart failures', async () => {
    const helm = fakeHelm(
      'for i in 1 2 3 4 5 6 7; do echo "line $i" >&2; done; echo "Error: template: carts/templates/deployment.yaml:3: bad" >&2; exit 1',
    );
    const err = await new HelmApplier({ helmPath: helm, homeDir }).apply(request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundError);
    const e = err as ReboundError;
    expect(e.code).toBe('HelmUpgradeFailed');
    expect(e.reason).toBe('ApplyFailed');
    expect(e.retryable).toBe(false);
    expect(e.message).toBe(
      'helm upgrade of carts in sockshop-production failed: line 4\nline 5\nline 6\nline 7\nError: template: carts/templates/deployment.yaml:3: bad',
    );
  });

  it('marks connection failures as retryable', async () => {
    const helm = fakeHelm(
      'echo "Error: Kubernetes cluster unreachable: dial tcp 127.0.0.1:1: connect: connection refused" >&2; exit 1',
    );
    const err = await new HelmApplier({ helmPath: helm, homeDir }).apply(request).catch((e: unknown) => e);
    expect((err as ReboundError).retryable).toBe(true);
  });

  it('refuses to run without a chart', async () => {
    const err = await new HelmApplier({ homeDir })
      .apply((({ chartDir: _chartDir, ...rest }) => rest)(request))
      .catch((e: unknown) => e);
    expect((err as ReboundError).code).toBe('HelmChartMissing');
  });

  it('labels the upgrade with the revision it creates', async () => {
    const helm = fakeHelm('echo \'{"version":3}\'', { metadata: '{"revision":2,"status":"deployed","labels":{}}' });
    await new HelmApplier({ helmPath: helm, homeDir }).apply(request);
    expect(callsOf(helm).at(-1)).toMatch(/^upgrade carts .* --labels rebound\.dev\/revision=3$/);
  });

  it('rolls back a release its own interrupted upgrade left pending, then upgrades', async () => {
    const helm = fakeHelm('echo \'{"version":5}\'', {
      metadata: '{"revision":3,"status":"pending-upgrade","labels":{"rebound.dev/revision":"3"}}',
      history:
        '[{"revision":1,"status":"superseded"},{"revision":2,"status":"deployed"},{"revision":3,"status":"pending-upgrade"}]',
    });
    const result = await new HelmApplier({ helmPath: helm, homeDir }).apply(request);
    expect(result.helmRevision).toBe(5);
    expect(callsOf(helm).map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'get metadata carts',
      'history carts --namespace',
      'rollback carts 2',
      'get metadata carts',
      'upgrade carts /w/carts/chart',
    ]);
  });

  it('stalls, with what to do, on a release someone else left pending, and runs nothing', async () => {
    // Helm carries labels over: a person's upgrade after ours still has our label, with an older number.
    const helm = fakeHelm('echo \'{"version":5}\'', {
      metadata: '{"revision":4,"status":"pending-upgrade","labels":{"rebound.dev/revision":"3"}}',
      history: '[{"revision":3,"status":"deployed"},{"revision":4,"status":"pending-upgrade"}]',
    });
    const err = await new HelmApplier({ helmPath: helm, homeDir }).apply(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HelmReleasePending', reason: 'ApplyFailed', retryable: false });
    expect((err as Error).message).toContain('is pending-upgrade at revision 4, an operation Rebound did not start');
    expect((err as Error).message).toContain('`helm rollback carts 3 --namespace sockshop-production`');
    expect(callsOf(helm).some((c) => c.startsWith('upgrade') || c.startsWith('rollback'))).toBe(false);
  });

  it('never retries "another operation is in progress" forever', async () => {
    const helm = fakeHelm(
      'echo "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress" >&2; exit 1',
    );
    const err = await new HelmApplier({ helmPath: helm, homeDir }).apply(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HelmReleasePending', retryable: false });
  });

  it('runs no helm at all once its signal is aborted', async () => {
    const helm = fakeHelm('echo \'{"version":1}\'');
    const abort = new AbortController();
    abort.abort(new Error('leadership lost'));
    await expect(new HelmApplier({ helmPath: helm, homeDir }).apply(request, abort.signal)).rejects.toThrow(
      'leadership lost',
    );
    expect(() => callsOf(helm)).toThrow(/ENOENT/);
  });

  it('names a missing helm binary', async () => {
    const err = await new HelmApplier({ helmPath: '/nonexistent/helm', homeDir })
      .apply(request)
      .catch((e: unknown) => e);
    expect((err as ReboundError).code).toBe('HelmNotRunnable');
  });
});
