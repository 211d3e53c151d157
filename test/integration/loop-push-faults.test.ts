// A batched push that keeps failing, on real parts: kube-apiserver + etcd, git http-backend and a
// `rebound controller` process (16 workers). Problems of several services of one repository commit
// together; while every push is cut in transit, the store gives up after its attempts and the whole
// batch fails: each problem must say so in its status, record no attempt, and retry with the queue's
// backoff. When the server is back (its first push landing with the answer lost), every problem
// ends with exactly one commit of its own: nothing lost, nothing doubled.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemEvent } from '../../src/api/index.ts';
import { startGitServer } from '../harness/git-server.ts';
import type { GitFault, GitServer } from '../harness/git-server.ts';
import { keptnSeed } from '../harness/keptn-repo.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { runCommand } from '../harness/process.ts';
import { applyObjects, installControllerRbac, kubectl, startControllerProcess } from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import { condition, createNamespace, gitSecret, stopInOrder } from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;

const NAMESPACE = `push-faults-${randomBytes(3).toString('hex')}`;
const PROJECT = 'faults';
const SERVICES = ['carts', 'orders', 'payment', 'shipping', 'catalogue', 'users'];

let git: GitServer;
let repoDir = '';
let controller: ControllerProcess | undefined;
/** Every push is cut before Git sees it while true. */
let pushesDown = true;
/** Faults the next pushes meet once the server is back. */
let afterwards: GitFault[] = [];
let cutPushes = 0;

async function problems(): Promise<ProblemEvent[]> {
  const out = await kubectl(admin, ['get', 'problemevents', '-n', NAMESPACE, '-o', 'json']);
  return (JSON.parse(out) as { items: ProblemEvent[] }).items;
}

/** `<namespace>/<name> <uid> <attempt>` of every Rebound commit on production, newest first. */
async function commitTrailers(): Promise<string[]> {
  const { stdout } = await runCommand('git', [
    '--git-dir',
    repoDir,
    'log',
    '--format=%H %(trailers:key=Rebound-Problem,valueonly,separator=) %(trailers:key=Rebound-Attempt,valueonly,separator=)',
    'production',
  ]);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.includes('/'));
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startGitServer({
    username: 'rebound-bot',
    password: randomBytes(12).toString('hex'),
    fault: (kind) => {
      if (kind !== 'git-receive-pack') return undefined;
      if (pushesDown) {
        cutPushes += 1;
        return 'drop';
      }
      return afterwards.shift();
    },
  });
  await createNamespace(admin, NAMESPACE, [gitSecret(NAMESPACE, git)]);
  const repo = await git.createRepo(
    PROJECT,
    keptnSeed({ project: PROJECT, stages: ['production'], services: SERVICES, examplesDir: null }),
  );
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
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: 'http://127.0.0.1:9',
    metricsPort: await freePort(),
    name: 'rebound-controller-push-faults',
    // No evaluation during the test: only the commit path counts.
    args: ['--namespace', NAMESPACE, '--no-leader-elect', '--workers=16', '--evaluation-wait=10m'],
  });
}, 120_000);

afterAll(() => stopInOrder(controller, git));

describe('a batched push that keeps failing', () => {
  it('backs every problem of the batch off, then commits each exactly once when the server is back', async () => {
    await Promise.all(
      SERVICES.map((service, i) =>
        applyObjects(admin, [
          {
            apiVersion: 'rebound.dev/v1alpha1',
            kind: 'ProblemEvent',
            metadata: { name: `p-${String(i)}`, namespace: NAMESPACE },
            spec: {
              project: PROJECT,
              stage: 'production',
              service,
              problemTitle: 'Response time degradation',
              state: 'OPEN',
              source: 'faults',
            },
          },
        ]),
      ),
    );

    // Every problem says its commit failed and that it retries; none has recorded an attempt.
    let seen: ProblemEvent[] = [];
    await expect
      .poll(
        async () => {
          seen = await problems();
          return (
            seen.length === SERVICES.length &&
            seen.every((p) => condition(p, 'Reconciling')?.reason === 'GitUnreachable' && !p.status?.attempts?.length)
          );
        },
        { timeout: 90_000, interval: 250 },
      )
      .toBe(true)
      .catch((err: unknown) => {
        const states = seen.map(
          (p) =>
            `${p.metadata.name ?? ''}: ${p.status?.phase ?? '-'} ${condition(p, 'Reconciling')?.reason ?? ''} ${String(p.status?.attempts?.length ?? 0)}`,
        );
        throw new Error(
          `problems did not report the failed push:\n${states.join('\n')}\n${controller?.process.recentOutput() ?? ''}`,
          {
            cause: err,
          },
        );
      });
    expect(cutPushes).toBeGreaterThanOrEqual(5); // the store's own attempts came first
    expect(await commitTrailers()).toEqual([]);
    for (const p of seen) expect(condition(p, 'Stalled')?.status ?? 'False').toBe('False');

    // The server is back; the first push lands but its answer is lost.
    afterwards = ['drop-answer'];
    pushesDown = false;
    let done: ProblemEvent[] = [];
    await expect
      .poll(
        async () => {
          done = await problems();
          return done.every((p) => p.status?.phase === 'Evaluating' && p.status.attempts?.length === 1);
        },
        { timeout: 120_000, interval: 250 },
      )
      .toBe(true);
    const trailers = await commitTrailers();
    expect(trailers).toHaveLength(SERVICES.length);
    for (const p of done) {
      const mine = trailers.filter((t) =>
        t.endsWith(`${NAMESPACE}/${p.metadata.name ?? ''} ${p.metadata.uid ?? ''} 1`),
      );
      expect(mine, p.metadata.name).toHaveLength(1);
      expect(mine[0]?.split(' ')[0]).toBe(p.status?.attempts?.[0]?.commit);
    }
    for (const service of SERVICES) {
      const { stdout } = await runCommand('git', ['--git-dir', repoDir, 'show', `production:${service}/values.yaml`]);
      expect(stdout).toMatch(/^replicaCount: 2$/m);
    }
  });
});
