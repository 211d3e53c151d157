// One remediation per service under a storm, on real parts: kube-apiserver + etcd, git http-backend
// and two `rebound controller` processes (no leader election, 16 workers each), as a rolling update
// or a lost Lease can leave them. Many problems of ONE service are created within the same second,
// names in reverse order, so a turn guessed from creation time (1 s resolution, then the name) and a
// lagging cache gives it to several at once. Exactly one problem may act; the others wait without
// polling, and each hand-over (the holder finishes) passes the turn to exactly one next problem.
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
import { condition, createNamespace, gitSecret, startE2eGitServer, stopInOrder } from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;

const NAMESPACE = `storm-${randomBytes(3).toString('hex')}`;
const PROJECT = 'storm';
const SERVICE = 'carts';
const PROBLEMS = 24;
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

let git: GitServer;
let repoDir = '';
const controllers: ControllerProcess[] = [];

/** Names in reverse order of creation: z-23 is created first, a-00 last. */
const names = Array.from(
  { length: PROBLEMS },
  (_, i) => `${String.fromCharCode(97 + (i % 26))}-${String(i).padStart(2, '0')}`,
);

async function problems(): Promise<ProblemEvent[]> {
  const out = await kubectl(admin, ['get', 'problemevents', '-n', NAMESPACE, '-o', 'json']);
  return (JSON.parse(out) as { items: ProblemEvent[] }).items;
}

/** Rebound's commits on production, newest first: `<namespace>/<name> <uid> <attempt>` from the trailers. */
async function commitTrailers(): Promise<string[]> {
  const { stdout } = await runCommand('git', [
    '--git-dir',
    repoDir,
    'log',
    '--format=%(trailers:key=Rebound-Problem,valueonly,separator=) %(trailers:key=Rebound-Attempt,valueonly,separator=)',
    'production',
  ]);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('/'));
}

const acting = (p: ProblemEvent): boolean =>
  (p.status?.attempts?.length ?? 0) > 0 && !['Resolved', 'Exhausted', 'Unhandled'].includes(p.status?.phase ?? '');
const waiting = (p: ProblemEvent): boolean => condition(p, 'Reconciling')?.reason === 'Queued';
const finished = (p: ProblemEvent): boolean => ['Resolved', 'Exhausted', 'Unhandled'].includes(p.status?.phase ?? '');

/** Every open problem has either acted (and waits for its evaluation) or says it waits for its turn. */
async function settled(): Promise<ProblemEvent[]> {
  let last: ProblemEvent[] = [];
  await expect
    .poll(
      async () => {
        last = await problems();
        return (
          last.length === PROBLEMS &&
          last.every((p) => finished(p) || (acting(p) && p.status?.phase === 'Evaluating') || waiting(p)) &&
          last.some(acting)
        );
      },
      { timeout: 90_000, interval: 200 },
    )
    .toBe(true)
    .catch((err: unknown) => {
      const phases = last.map(
        (p) => `${p.metadata.name ?? ''}: ${p.status?.phase ?? '-'} ${condition(p, 'Reconciling')?.reason ?? ''}`,
      );
      throw new Error(
        `problems did not settle:\n${phases.join('\n')}\n${controllers.map((c) => c.process.recentOutput()).join('\n')}`,
        { cause: err },
      );
    });
  return last;
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  const repo = await createProjectRepo(git, {
    project: PROJECT,
    service: SERVICE,
    stages: ['production'],
    remediationStages: ['production'],
    files: { 'values.yaml': VALUES, 'remediation.yaml': POLICY },
  });
  repoDir = repo.dir;
  await applyObjects(admin, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: PROJECT, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
        stages: [{ name: 'production', remediation: 'automated', apply: 'none' }],
      },
    },
  ]);
  for (let i = 0; i < 2; i++) {
    controllers.push(
      await startControllerProcess({
        kubeconfigPath: cluster.controllerKubeconfigPath,
        prometheusUrl: 'http://127.0.0.1:9',
        metricsPort: await freePort(),
        name: `rebound-controller-${String(i)}`,
        // No evaluation during the test: only the action path and the hand-over count.
        args: [
          '--namespace',
          NAMESPACE,
          '--no-leader-elect',
          '--workers=16',
          '--evaluation-wait=10m',
          '--log-level=info',
        ],
      }),
    );
  }
}, 120_000);

afterAll(() => stopInOrder(...controllers, git));

describe('one remediation per service in a storm', () => {
  it('gives the turn to exactly one of many problems created in the same second, and hands it over one at a time', async () => {
    // All at once, in reverse name order, through one kubectl call per problem in parallel.
    await Promise.all(
      [...names].reverse().map((name) =>
        applyObjects(admin, [
          {
            apiVersion: 'rebound.dev/v1alpha1',
            kind: 'ProblemEvent',
            metadata: { name, namespace: NAMESPACE },
            spec: {
              project: PROJECT,
              stage: 'production',
              service: SERVICE,
              problemTitle: 'Response time degradation',
              state: 'OPEN',
              source: 'storm',
            },
          },
        ]),
      ),
    );

    const resolvedSoFar: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const now = await settled();
      const holders = now.filter(acting);
      expect(
        holders.map((p) => p.metadata.name),
        `round ${String(round)}`,
      ).toHaveLength(1);
      // One commit per round, each from a different problem: never two problems' attempt 1 at once.
      const trailers = await commitTrailers();
      expect(trailers, `round ${String(round)}`).toHaveLength(round);
      expect(new Set(trailers).size).toBe(round);
      const holder = holders[0];
      expect(trailers[0]).toBe(`${NAMESPACE}/${holder?.metadata.name ?? ''} ${holder?.metadata.uid ?? ''} 1`);
      // The source reports it resolved: the holder finishes and the turn passes to the next one.
      const name = holder?.metadata.name ?? '';
      await kubectl(admin, [
        'patch',
        'problemevent',
        name,
        '-n',
        NAMESPACE,
        '--type=merge',
        '-p',
        '{"spec":{"state":"RESOLVED"}}',
      ]);
      resolvedSoFar.push(name);
      await expect
        .poll(
          async () => (await problems()).filter((p) => resolvedSoFar.includes(p.metadata.name ?? '')).every(finished),
          { timeout: 30_000, interval: 200 },
        )
        .toBe(true);
    }
  });
});
