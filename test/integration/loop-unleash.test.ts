// The Unleash feature-flag provider end to end: a featuretoggle in a policy is committed to the stage
// branch (the audit trail) and switched in a real Unleash 8 (with its PostgreSQL) in the stage's
// environment, by the controller running as a process against the real API server and Git server.
// A token Unleash refuses stalls the problem with a reason and switches nothing.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { runCommand } from '../harness/process.ts';
import { startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { createUnleashFeature, startUnleash, unleashAdminApi, unleashFeatureStates } from '../harness/unleash.ts';
import type { LocalUnleash } from '../harness/unleash.ts';
import {
  applyObjects,
  createProjectRepo,
  installControllerRbac,
  kubectl,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import { condition, createNamespace, gitSecret, namespaceObjects, phase, startE2eGitServer } from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `unleash-${suffix()}`;

const VALUES = 'replicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n  EnableItemCache: true\n';
const SLO =
  'spec_version: "1.0"\nobjectives:\n  - sli: healthy\n    pass:\n      - criteria:\n          - "<=1"\ntotal_score:\n  pass: "90%"\n  warning: "75%"\n';
const SLI = 'spec_version: "1.0"\nindicators:\n  healthy: vector(1)\n';
const policy = (flag: string): string => `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: featuretoggle
          name: switch ${flag} off
          value: ${flag}:off
`;

let unleash: LocalUnleash;
let git: GitServer;
let prometheus: LocalPrometheus;
let controller: ControllerProcess;

/** A feature switched on in every environment, as the tutorial's EnablePromotion was before the incident. */
async function createFeature(name: string): Promise<void> {
  await createUnleashFeature(unleash, name);
  for (const env of ['development', 'production'])
    await unleashAdminApi(unleash, `/api/admin/projects/default/features/${name}/environments/${env}/on`, {
      method: 'POST',
    });
}

const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller.process.recentOutput(),
});

/** A project whose stage `production` switches flags in Unleash (secret: the Secret holding the token). */
async function project(flag: string, secret: string): Promise<{ name: string; repoDir: string }> {
  const name = `p-${suffix()}`;
  const repo = await createProjectRepo(git, {
    project: name,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files: { 'values.yaml': VALUES, 'slo.yaml': SLO, 'sli.yaml': SLI, 'remediation.yaml': policy(flag) },
  });
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, poll: '2s' },
        stages: [{ name: 'production', remediation: 'automated', apply: 'none' }],
        featureFlags: { provider: 'unleash', unleash: { url: `${unleash.url}/api`, secretRef: { name: secret } } },
      },
    },
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'ProblemEvent',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        project: name,
        stage: 'production',
        service: 'carts',
        problemTitle: 'Response time degradation',
        state: 'OPEN',
        source: 'e2e',
      },
    },
  ]);
  return { name, repoDir: repo.dir };
}

beforeAll(async () => {
  await installControllerRbac(admin);
  [unleash, git, prometheus] = await Promise.all([startUnleash(), startE2eGitServer(), startPrometheus({})]);
  await createNamespace(admin, NAMESPACE, [
    gitSecret(NAMESPACE, git),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'unleash', namespace: NAMESPACE },
      stringData: { token: unleash.adminToken },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'unleash-wrong', namespace: NAMESPACE },
      stringData: { token: '*:*.not-a-token-unleash-knows' },
    },
  ]);
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--no-leader-elect',
      '--evaluation-wait=1s',
      '--stalled-recheck=3s',
      '--log-level=debug',
    ],
  });
}, 180_000);

afterAll(async () => {
  await controller?.stop();
  await Promise.all([unleash?.stop(), git?.stop(), prometheus?.stop()]);
});

describe('featuretoggle with the Unleash provider', () => {
  it('commits the flag to the stage branch and switches it off in the stage environment only', async () => {
    await createFeature('EnablePromotion');
    const { name, repoDir } = await project('EnablePromotion', 'unleash');
    const resolved = await waitFor<ProblemEvent>('problemevent', name, phase('Resolved'));
    expect(await unleashFeatureStates(unleash, 'EnablePromotion')).toEqual({ development: true, production: false });
    const attempt = resolved.status?.attempts?.[0];
    expect(attempt).toMatchObject({ action: 'featuretoggle', value: 'EnablePromotion:off', result: 'pass' });
    const { stdout: values } = await runCommand('git', [
      '--git-dir',
      repoDir,
      'show',
      `${attempt?.commit ?? ''}:carts/values.yaml`,
    ]);
    expect(values).toBe(VALUES.replace('EnablePromotion: true', 'EnablePromotion: false'));
    const events = await kubectl(admin, [
      'get',
      'events',
      '-n',
      NAMESPACE,
      '--field-selector',
      `involvedObject.name=${name},reason=Applied`,
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(events).toMatch(/EnablePromotion/);
    expect(controller.process.recentOutput()).not.toContain(unleash.adminToken);
  });

  it('stalls with UnleashUnauthorized when Unleash refuses the token, and switches nothing', async () => {
    await createFeature('EnableItemCache');
    const { name } = await project('EnableItemCache', 'unleash-wrong');
    const stalled = await waitFor<ProblemEvent>(
      'problemevent',
      name,
      (p) => condition(p, 'Stalled')?.reason === 'UnleashUnauthorized',
    );
    expect(condition(stalled, 'Stalled')?.message).toContain('Unleash');
    expect(stalled.status?.attempts?.[0]?.appliedTime).toBeUndefined();
    expect(await unleashFeatureStates(unleash, 'EnableItemCache')).toEqual({ development: true, production: true });
    expect(JSON.stringify(stalled.status)).not.toContain('not-a-token-unleash-knows');
  });
});
