import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Condition, Project, ProjectStatus } from '../../api/index.ts';
import { ReboundError } from '../../errors.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import { createConfigCaches } from '../config-caches.ts';
import { forgeHealth } from '../forges.ts';
import type { ForgeHealth } from '../forges.ts';
import { ProjectReconciler } from './reconciler.ts';
import type { ProjectRepository } from './reconciler.ts';
import { FakeClock } from '../../runtime/clock.ts';

const GOOD_POLICY = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts
spec:
  remediations:
    - problemType: default
      actionsOnOpen:
        - action: scale
          name: up
          value: "+1"
`;
const SHIPYARD = `apiVersion: spec.keptn.sh/0.2.2
kind: Shipyard
metadata:
  name: shipyard-sockshop
spec:
  stages:
    - name: staging
    - name: production
      sequences:
        - name: remediation
          tasks:
            - name: action
            - name: je-test
            - name: evaluation
              triggeredAfter: "1m"
              properties:
                timeframe: "2m"
`;

/** A repository as commits of whole file maps, one list per branch (last = head). */
class FakeRepository implements ProjectRepository {
  branches = new Map<string, { sha: string; files: Record<string, string> }[]>();
  unreachable: ReboundError | undefined;

  push(branch: string, files: Record<string, string>): string {
    const history = this.branches.get(branch) ?? [];
    const previous = history.at(-1)?.files ?? {};
    const sha = `${branch}-${String(history.length + 1)}`.padEnd(40, '0');
    history.push({ sha, files: { ...previous, ...files } });
    this.branches.set(branch, history);
    return sha;
  }

  private commit(sha: string): Record<string, string> {
    for (const history of this.branches.values()) for (const c of history) if (c.sha === sha) return c.files;
    throw new Error(`no commit ${sha}`);
  }

  head(branch: string): Promise<string> {
    if (this.unreachable) return Promise.reject(this.unreachable);
    const sha = this.branches.get(branch)?.at(-1)?.sha;
    return sha
      ? Promise.resolve(sha)
      : Promise.reject(
          new ReboundError(`branch ${branch} does not exist`, {
            code: 'GitBranchNotFound',
            reason: 'BranchNotFound',
            retryable: false,
          }),
        );
  }

  async readFile(branch: string, path: string): Promise<{ text: string; commit: string } | undefined> {
    const sha = await this.head(branch);
    const text = this.commit(sha)[path];
    return text === undefined ? undefined : { text, commit: sha };
  }

  readFileAt(commit: string, path: string): Promise<{ text: string } | undefined> {
    const text = this.commit(commit)[path];
    return Promise.resolve(text === undefined ? undefined : { text });
  }

  changedPaths(oldCommit: string | undefined, newCommit: string): Promise<string[]> {
    const before = oldCommit ? this.commit(oldCommit) : {};
    const after = this.commit(newCommit);
    const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
    return Promise.resolve([...paths].filter((p) => before[p] !== after[p]).sort());
  }
}

function world(spec: Partial<Project['spec']> = {}) {
  const repository = new FakeRepository();
  const configs = createConfigCaches();
  const forge: { health: ForgeHealth | undefined } = { health: undefined };
  const forgotten: string[] = [];
  let deleted = false;
  let project: Project = {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Project',
    metadata: { name: 'sockshop', namespace: 'team', generation: 3 },
    spec: { git: { url: 'http://127.0.0.1:1/sockshop.git', poll: '30s' }, ...spec },
  };
  const reconciler = new ProjectReconciler({
    clock: new FakeClock(Date.parse('2026-11-22T12:00:00Z')),
    cache: { get: () => (deleted ? undefined : project) },
    repositories: {
      storeFor: () => Promise.resolve(repository),
      forget: (namespace, name) => {
        forgotten.push(`${namespace}/${name}`);
        return Promise.resolve();
      },
    },
    writer: {
      patchStatus: (_p, status: ProjectStatus) => {
        project = { ...project, status: { ...project.status, ...status } };
        return Promise.resolve(project);
      },
    },
    configs,
    forgeHealth: (namespace, name) => (`${namespace}/${name}` === 'team/sockshop' ? forge.health : undefined),
  });
  const ctx: ReconcileContext = {
    log: pino({ level: 'silent' }),
    reconcileId: 'r',
    signal: new AbortController().signal,
  };
  return {
    repository,
    configs,
    forgotten,
    forge,
    dropForge: () => {
      const { forge: _dropped, ...rest } = project.spec;
      project = { ...project, spec: rest };
    },
    delete: () => void (deleted = true),
    reconcile: () => reconciler.reconcile('team/sockshop', ctx),
    status: () => project.status,
    condition: (type: string): Condition | undefined => project.status?.conditions?.find((c) => c.type === type),
  };
}

describe('ProjectReconciler', () => {
  it('releases the store of a deleted Project', async () => {
    const w = world({ stages: [{ name: 'production' }] });
    w.repository.push('production', { 'carts/values.yaml': 'replicaCount: 1\n' });
    await w.reconcile();
    expect(w.forgotten).toEqual([]);
    w.delete();
    expect(await w.reconcile()).toBeUndefined();
    expect(w.forgotten).toEqual(['team/sockshop']);
  });

  it("stages listed in the spec follow the shipyard's remediation sequence where they remediate", async () => {
    const w = world({ stages: [{ name: 'staging', remediation: 'disabled' }, { name: 'production' }] });
    w.repository.push('main', {
      'shipyard.yaml': SHIPYARD.replace(
        '    - name: staging\n',
        '    - name: staging\n      sequences:\n        - name: remediation\n          tasks:\n            - name: notify\n',
      ),
    });
    w.repository.push('staging', { 'carts/values.yaml': 'replicaCount: 1\n' });
    w.repository.push('production', { 'carts/values.yaml': 'replicaCount: 1\n' });
    await w.reconcile();
    const [staging, production] = w.status()?.stages ?? [];
    expect(staging?.remediationTasks).toBeUndefined();
    expect(production?.remediationTasks?.map((t) => t.name)).toEqual(['action', 'je-test', 'evaluation']);
  });

  it('stages listed in the spec need no shipyard (no default branch at all)', async () => {
    const w = world({ stages: [{ name: 'production' }] });
    w.repository.push('production', { 'carts/values.yaml': 'replicaCount: 1\n' });
    await w.reconcile();
    expect(w.status()?.stages?.[0]).toMatchObject({ name: 'production', remediation: 'automated' });
    expect(w.status()?.stages?.[0]?.remediationTasks).toBeUndefined();
  });

  it('reads the stages from shipyard.yaml, records each branch head and polls on spec.git.poll', async () => {
    const w = world();
    w.repository.push('main', { 'shipyard.yaml': SHIPYARD });
    const staging = w.repository.push('staging', { 'carts/values.yaml': 'replicaCount: 1\n' });
    const production = w.repository.push('production', {
      'carts/values.yaml': 'replicaCount: 1\n',
      'carts/remediation.yaml': GOOD_POLICY,
    });
    expect(await w.reconcile()).toEqual({ requeueAfterMs: 30_000 });
    expect(w.status()?.stages).toEqual([
      {
        name: 'staging',
        branch: 'staging',
        namespace: 'sockshop-staging',
        remediation: 'disabled',
        apply: 'helm',
        commit: staging,
      },
      {
        name: 'production',
        branch: 'production',
        namespace: 'sockshop-production',
        remediation: 'automated',
        apply: 'helm',
        commit: production,
        // The sequence's tasks reach the loop through the status, without the file positions.
        remediationTasks: [
          { name: 'action' },
          { name: 'je-test' },
          { name: 'evaluation', triggeredAfter: '1m', properties: { timeframe: '2m' } },
        ],
      },
    ]);
    expect(w.condition('Ready')).toMatchObject({ status: 'True', reason: 'Succeeded', observedGeneration: 3 });
    expect(w.condition('GitReachable')).toMatchObject({ status: 'True', reason: 'GitFetched' });
    // The watched file is in the shared cache before any problem asked for it.
    expect(
      w.configs.remediation.get({
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        file: 'carts/remediation.yaml',
      })?.commit,
    ).toBe(production);
  });

  it('reports a broken pushed policy with file:line:column and keeps the last good one in force', async () => {
    const w = world({ stages: [{ name: 'production' }] });
    const good = w.repository.push('production', { 'carts/remediation.yaml': GOOD_POLICY });
    await w.reconcile();
    const broken = w.repository.push('production', {
      'carts/remediation.yaml': `${GOOD_POLICY}        - action: [unclosed\n`,
    });
    await w.reconcile();
    expect(w.condition('ConfigValid')).toMatchObject({ status: 'False', reason: 'PolicyInvalid' });
    expect(w.condition('ConfigValid')?.message).toMatch(
      new RegExp(
        `^carts/remediation\\.yaml at ${broken.slice(0, 8)} is invalid: carts/remediation\\.yaml:\\d+:\\d+: .*keeping the version from ${good.slice(0, 8)}`,
      ),
    );
    expect(w.condition('Stalled')).toMatchObject({ status: 'False' });
    expect(
      w.configs.remediation.get({
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        file: 'carts/remediation.yaml',
      })?.commit,
    ).toBe(good);
    // A fix clears it.
    w.repository.push('production', { 'carts/remediation.yaml': GOOD_POLICY.replace('"+1"', '"+2"') });
    await w.reconcile();
    expect(w.condition('ConfigValid')).toMatchObject({ status: 'True', reason: 'ConfigValid' });
  });

  it('names the failing part: shipyard, Git, poll schedule', async () => {
    const w = world();
    w.repository.push('main', { 'shipyard.yaml': 'spec:\n  stages: [\n' });
    await w.reconcile();
    expect(w.condition('ConfigValid')).toMatchObject({ status: 'False', reason: 'ShipyardInvalid' });
    expect(w.condition('ConfigValid')?.message).toMatch(/shipyard\.yaml:\d+:\d+: /);
    expect(w.condition('Stalled')).toMatchObject({ status: 'True', reason: 'ShipyardInvalid' });

    w.repository.unreachable = new ReboundError('http://127.0.0.1:1/sockshop.git: cannot reach the Git server', {
      code: 'GitError',
      reason: 'GitUnreachable',
      retryable: true,
    });
    await w.reconcile();
    expect(w.condition('GitReachable')).toMatchObject({ status: 'False', reason: 'GitUnreachable' });
    expect(w.condition('Ready')).toMatchObject({ status: 'False', reason: 'GitUnreachable' });
    expect(w.condition('Stalled')).toMatchObject({ status: 'False' });

    const bad = world({ git: { url: 'http://127.0.0.1:1/x.git', poll: 'every minute' } });
    expect(await bad.reconcile()).toBeUndefined();
    expect(bad.condition('ConfigValid')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
  });

  it("says whether the forge takes Rebound's calls (ForgeReachable), without touching Ready", async () => {
    const forgeSpec = {
      type: 'gitea' as const,
      url: 'http://127.0.0.1:1',
      repository: 'team/sockshop',
      secretRef: { name: 'forge' },
    };
    const w = world({ stages: [{ name: 'production' }], forge: forgeSpec });
    w.repository.push('production', { 'carts/values.yaml': 'replicaCount: 1\n' });
    await w.reconcile();
    // No call made yet: nothing is claimed either way.
    expect(w.condition('ForgeReachable')).toBeUndefined();

    w.forge.health = forgeHealth({
      result: 'failed',
      error: new ReboundError('POST http://127.0.0.1:1/api/v1/statuses answered 401', {
        code: 'ForgeUnauthorized',
        retryable: false,
      }),
    });
    await w.reconcile();
    expect(w.condition('ForgeReachable')).toMatchObject({ status: 'False', reason: 'ForgeMisconfigured' });
    expect(w.condition('ForgeReachable')?.message).toContain('given up');
    expect(w.condition('ForgeReachable')?.message).toContain('answered 401');
    expect(w.condition('Ready')).toMatchObject({ status: 'True' });

    w.forge.health = forgeHealth({ result: 'retried', error: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    await w.reconcile();
    expect(w.condition('ForgeReachable')).toMatchObject({ status: 'False', reason: 'ForgeUnavailable' });
    expect(w.condition('ForgeReachable')?.message).toContain('retrying');

    w.forge.health = forgeHealth({ result: 'delivered' });
    await w.reconcile();
    expect(w.condition('ForgeReachable')).toMatchObject({ status: 'True', reason: 'ForgeDelivered' });

    // The forge removed from the spec: the condition goes with it.
    w.dropForge();
    await w.reconcile();
    expect(w.condition('ForgeReachable')).toBeUndefined();
  });
});
