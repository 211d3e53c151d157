// Sharded controllers against one API server, as the install manifests run them: one `rebound
// controller` per shard (`--watch-label-selector rebound.dev/shard=<shard>`), each with leader
// election on its own Lease, plus one for the unsharded rest (`!rebound.dev/shard`). Each acts on its
// own Projects' problems only, and every problem is remediated exactly once.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { runCommand } from '../harness/process.ts';
import {
  applyObjects,
  createProjectRepo,
  installControllerRbac,
  kubectl,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import { createNamespace, gitSecret, namespaceObjects, phase, startE2eGitServer, stopInOrder } from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const NAMESPACE = `shards-${randomBytes(3).toString('hex')}`;
const VALUES = 'replicaCount: 1\nfeatureFlags:\n  EnablePromotion: true\n';
const POLICY = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts
spec:
  remediations:
    - problemType: default
      actionsOnOpen:
        - action: scale
          value: "+1"
`;
/** Shard label value per Project; undefined: unsharded. */
const SHARDS: Record<string, string | undefined> = { eu: 'eu', us: 'us', plain: undefined };
const SELECTORS = ['rebound.dev/shard=eu', 'rebound.dev/shard=us', '!rebound.dev/shard'];

let git: GitServer;
const repos = new Map<string, string>();
const controllers: ControllerProcess[] = [];
const { waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controllers.map((c) => c.process.recentOutput()).join('\n'),
});

async function cachedProblems(c: ControllerProcess): Promise<number> {
  const text = await (await fetch(`${c.metricsUrl}/metrics`)).text();
  return [...text.matchAll(/^rebound_problems\{[^}]*\} (\S+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  for (const [project, shard] of Object.entries(SHARDS)) {
    const repo = await createProjectRepo(git, {
      project,
      service: 'carts',
      stages: ['production'],
      remediationStages: ['production'],
      files: { 'values.yaml': VALUES, 'remediation.yaml': POLICY },
    });
    repos.set(project, repo.dir);
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Project',
        metadata: { name: project, namespace: NAMESPACE, ...(shard ? { labels: { 'rebound.dev/shard': shard } } : {}) },
        spec: {
          git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
          stages: [{ name: 'production', remediation: 'automated', apply: 'none' }],
        },
      },
    ]);
  }
  for (const [i, selector] of SELECTORS.entries()) {
    controllers.push(
      await startControllerProcess({
        kubeconfigPath: cluster.controllerKubeconfigPath,
        prometheusUrl: 'http://127.0.0.1:9',
        metricsPort: await freePort(),
        name: `rebound-shard-${String(i)}`,
        args: [
          '--namespace',
          NAMESPACE,
          `--watch-label-selector=${selector}`,
          '--leader-elect',
          '--lease-duration=5s',
          '--evaluation-wait=10m',
        ],
      }),
    );
  }
}, 120_000);

afterAll(() => stopInOrder(...controllers, git));

describe('sharded controllers on one API server', () => {
  it('each shard leads on its own Lease and remediates only its own Projects’ problems, each once', async () => {
    // Three leaders at once: one Lease per shard, none shared.
    for (const c of controllers) {
      await expect
        .poll(async () => /^rebound_leader 1$/m.test(await (await fetch(`${c.metricsUrl}/metrics`)).text()), {
          timeout: 30_000,
          interval: 200,
        })
        .toBe(true);
    }
    const leases = (
      await kubectl(admin, [
        'get',
        'leases',
        '-n',
        'rebound-system',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}',
      ])
    )
      .split('\n')
      .filter((n) => /^rebound-controller-[0-9a-f]{10}$/.test(n));
    expect(new Set(leases).size).toBeGreaterThanOrEqual(3);

    // Two problems per Project, labelled with the Project's shard as ingestion labels them.
    for (const [project, shard] of Object.entries(SHARDS)) {
      for (const n of [1, 2]) {
        await applyObjects(admin, [
          {
            apiVersion: 'rebound.dev/v1alpha1',
            kind: 'ProblemEvent',
            metadata: {
              name: `${project}-${String(n)}`,
              namespace: NAMESPACE,
              ...(shard ? { labels: { 'rebound.dev/shard': shard } } : {}),
            },
            spec: {
              project,
              stage: 'production',
              service: 'carts',
              problemTitle: 'Response time degradation',
              state: 'OPEN',
              source: 'e2e',
            },
          },
        ]);
      }
    }
    for (const project of Object.keys(SHARDS)) {
      // One of the two acts (the other waits its turn); its commit is on the Project's own repository.
      await waitFor<ProblemEvent>(
        'problemevent',
        `${project}-1`,
        (p) => phase('Evaluating')(p) || p.status?.conditions?.some((c) => c.reason === 'Queued') === true,
        90_000,
      );
      await waitFor<ProblemEvent>(
        'problemevent',
        `${project}-2`,
        (p) => phase('Evaluating')(p) || p.status?.conditions?.some((c) => c.reason === 'Queued') === true,
        90_000,
      );
      await expect
        .poll(
          async () => {
            const { stdout } = await runCommand('git', [
              '--git-dir',
              repos.get(project) ?? '',
              'log',
              '--format=%(trailers:key=Rebound-Problem,valueonly,separator=)',
              'production',
            ]);
            return stdout.split('\n').filter((l) => l.includes('/')).length;
          },
          { timeout: 30_000, interval: 200 },
        )
        .toBe(1);
    }
    // Each controller holds only its shard's two problems in its cache.
    expect(await Promise.all(controllers.map(cachedProblems))).toEqual([2, 2, 2]);
  });
});
