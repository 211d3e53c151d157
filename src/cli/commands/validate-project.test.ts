import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkProjectApply } from './validate-project.ts';
import type { BranchFiles } from './validate-project.ts';

const FLUX_KS = (namespace: string | undefined, name: string): string =>
  `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}spec:
  path: ./carts
`;

function repo(branches: Record<string, Record<string, string>>): (branch: string) => Promise<BranchFiles | undefined> {
  return (branch) => {
    const files = branches[branch];
    if (!files) return Promise.resolve(undefined);
    return Promise.resolve({
      paths: Object.keys(files),
      read: (paths) =>
        Promise.resolve(new Map(paths.flatMap((p) => (files[p] === undefined ? [] : [[p, files[p]] as const])))),
    });
  };
}

const project = (stages: string): string =>
  `apiVersion: rebound.dev/v1alpha1\nkind: Project\nmetadata:\n  name: sockshop\nspec:\n  stages:\n${stages}`;

const SERVICE = { 'carts/remediation.yaml': 'remediations: []\n', 'carts/values.yaml': 'replicaCount: 1\n' };

describe('checkProjectApply', () => {
  it('passes stages whose applier finds what it needs', async () => {
    const report = await checkProjectApply(
      'p.yaml',
      project(
        '    - name: dev\n    - name: staging\n      apply: kubernetes\n    - name: production\n      apply: flux\n      gitops:\n        objects: [flux-system/carts]\n',
      ),
      'repo',
      repo({
        dev: { ...SERVICE, 'carts/chart/Chart.yaml': 'name: carts\n' },
        staging: SERVICE,
        production: {
          ...SERVICE,
          'clusters/prod/carts.yaml': `${FLUX_KS(undefined, 'carts')}---\n${FLUX_KS('apps', 'x')}`,
        },
      }),
    );
    expect(report).toEqual({ path: 'p.yaml', errors: [], warnings: [] });
  });

  it('reports a missing branch, a missing chart and an unknown applier where they are written', async () => {
    const report = await checkProjectApply(
      'p.yaml',
      project('    - name: dev\n    - name: staging\n      branch: stage\n    - name: production\n      apply: argo\n'),
      'repo',
      repo({ dev: SERVICE }),
    );
    expect(report.errors).toEqual([
      {
        file: 'p.yaml',
        line: 7,
        column: 7,
        message:
          'stage dev: apply: helm installs carts from carts/chart/Chart.yaml on branch dev, which is missing (the chart must be in the repository)',
      },
      {
        file: 'p.yaml',
        line: 9,
        column: 15,
        message: 'stage staging: repo has no branch "stage": Rebound commits to and applies from it',
      },
      {
        file: 'p.yaml',
        line: 11,
        column: 14,
        message: 'stage production: apply "argo" is not one of helm, kubernetes, flux, argocd, none',
      },
    ]);
  });

  it('reports gitops.objects that the branch does not define, and warns when it defines none', async () => {
    const stages =
      '    - name: production\n      apply: flux\n      gitops:\n        objects: [flux-system/cart, apps/x]\n    - name: dev\n      apply: flux\n      gitops:\n        objects: [flux-system/carts]\n';
    const report = await checkProjectApply(
      'p.yaml',
      project(stages),
      'repo',
      repo({
        production: { ...SERVICE, 'flux/ks.yaml': `${FLUX_KS(undefined, 'carts')}---\n${FLUX_KS('apps', 'x')}` },
        dev: SERVICE,
      }),
    );
    expect(report.errors.map((e) => e.message)).toEqual([
      'stage production: gitops.objects names flux-system/cart, which is no Flux Kustomization of branch production (it defines apps/x, flux-system/carts)',
    ]);
    expect(report.warnings.map((e) => e.message)).toEqual([
      'stage dev: branch dev defines no Flux Kustomization; Rebound looks flux-system/carts up in the cluster',
    ]);
  });

  it('warns about gitops settings on a stage that does not apply with flux', async () => {
    const report = await checkProjectApply(
      'p.yaml',
      project('    - name: dev\n      apply: none\n      gitops:\n        timeout: 5m\n'),
      'repo',
      repo({ dev: SERVICE }),
    );
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((w) => w.message)).toEqual([
      'stage dev: gitops is read only with apply: flux or argocd, and this stage applies with none',
    ]);
  });

  it('refuses what is not a Project, and a Project without stages', async () => {
    const none = repo({});
    expect((await checkProjectApply('p.yaml', 'kind: Remediation\n', 'repo', none)).errors[0]?.message).toBe(
      'not a Rebound Project (kind: Project)',
    );
    expect((await checkProjectApply('p.yaml', 'kind: Project\nspec: {}\n', 'repo', none)).errors[0]?.message).toBe(
      'the Project has no stages: nothing is applied',
    );
    expect((await checkProjectApply('p.yaml', 'kind: [\n', 'repo', none)).errors).not.toEqual([]);
  });
});

describe("checkProjectApply: the Project file's Remediations and their values files", () => {
  const manifests = readFileSync(
    new URL('../../../test/fixtures/values/rendered-manifests.yaml', import.meta.url),
    'utf8',
  );
  const remediation = (values: string): string =>
    [
      'apiVersion: rebound.dev/v1alpha1',
      'kind: Remediation',
      'metadata:',
      '  name: carts-production',
      'spec:',
      '  project: sockshop',
      '  stage: production',
      '  service: carts',
      '  remediations: []',
      `  values: ${values}`,
      '',
    ].join('\n');
  const file = (values: string): string =>
    `${project('    - name: production\n      apply: none\n')}---\n${remediation(values)}`;
  const branches = (text: string | undefined) =>
    repo({ production: { ...SERVICE, ...(text === undefined ? {} : { 'carts/manifests/carts.yaml': text }) } });
  const keys = '{file: carts/manifests/carts.yaml, replicaCountKey: spec.replicas, featureFlagsKey: data}';

  it('passes a values file of rendered manifests whose keys each lead into one document', async () => {
    const report = await checkProjectApply('p.yaml', file(keys), 'repo', branches(manifests));
    expect(report).toEqual({ path: 'p.yaml', errors: [], warnings: [] });
  });

  it('reports a key path two documents hold, where the Remediation names it', async () => {
    const report = await checkProjectApply(
      'p.yaml',
      file(keys),
      'repo',
      branches(manifests.replace('  replicas: 1\n', '')),
    );
    expect(report.errors).toEqual([
      {
        file: 'p.yaml',
        line: 19,
        column: 63,
        message:
          'Remediation carts-production: carts/manifests/carts.yaml: spec (on the way to spec.replicas) is in documents 2 (Service carts) and 3 (Deployment carts); ' +
          'a key path must lead into one document: give a longer path that only one object has, or keep the objects in separate files (on branch production)',
      },
    ]);
  });

  it('reports a values file missing from the branch or not parsing, and warns about keys that lead nowhere', async () => {
    const missing = await checkProjectApply('p.yaml', file(keys), 'repo', branches(undefined));
    expect(missing.errors.map((e) => e.message)).toEqual([
      'Remediation carts-production: values file carts/manifests/carts.yaml is not on branch production: every values action fails with ValuesFileNotFound',
    ]);
    const broken = await checkProjectApply('p.yaml', file(keys), 'repo', branches('a: [\n'));
    expect(broken.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^Remediation carts-production: cannot edit carts\/manifests\/carts\.yaml: carts\/manifests\/carts\.yaml:2:1: /,
      ),
    ]);
    const nowhere = await checkProjectApply(
      'p.yaml',
      file('{file: carts/manifests/carts.yaml, replicaCountKey: replicaCount, minReplicasKey: spec.minReplicas}'),
      'repo',
      branches(manifests),
    );
    expect(nowhere.errors).toEqual([]);
    expect(nowhere.warnings.map((e) => e.message)).toEqual([
      'Remediation carts-production: carts/manifests/carts.yaml on branch production has no replicaCount: a scale action would be refused',
      "Remediation carts-production: spec.minReplicas is in more than one document of carts/manifests/carts.yaml on branch production: scale edits replicaCount, not a HorizontalPodAutoscaler's minimum",
    ]);
  });

  it('leaves a Remediation of another Project or stage, and one without values, to their own checks', async () => {
    const other = file(keys).replace('project: sockshop', 'project: other');
    expect((await checkProjectApply('p.yaml', other, 'repo', branches(undefined))).errors).toEqual([]);
    const plain = file(keys).replace(`  values: ${keys}\n`, '');
    expect((await checkProjectApply('p.yaml', plain, 'repo', branches(undefined))).errors).toEqual([]);
  });
});
