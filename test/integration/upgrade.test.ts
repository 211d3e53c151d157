// Upgrades keep objects: the previous release's CRDs (test/fixtures/upgrade/0.1.0, from git) and
// objects written against them, then today's crds/ applied over them as an upgrade does. Every
// Project, Remediation and ProblemEvent is still there with its spec, and today's controller
// reconciles each (a Ready condition for the object's current generation). A cluster of its own:
// the shared one already has today's CRDs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Condition } from '../../src/api/index.ts';
import { installCrds, startCluster } from '../harness/cluster.ts';
import type { LocalCluster } from '../harness/cluster.ts';
import { freePort } from '../harness/ports.ts';
import { REPO_ROOT, installControllerRbac, kubectl, startControllerProcess } from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import { namespaceObjects } from './e2e-helpers.ts';

const PREVIOUS = join(REPO_ROOT, 'test', 'fixtures', 'upgrade', '0.1.0');
const NAMESPACE = 'upgrade';

interface Stored {
  kind: string;
  metadata: { name: string; generation?: number; uid?: string };
  spec: unknown;
  status?: { conditions?: Condition[] };
}

let cluster: LocalCluster;
let controller: ControllerProcess | undefined;
let before: Stored[];

const list = async (): Promise<Stored[]> =>
  (
    JSON.parse(
      await kubectl(cluster.kubeconfigPath, [
        'get',
        'projects.rebound.dev,remediations.rebound.dev,problemevents.rebound.dev',
        '-n',
        NAMESPACE,
        '-o',
        'json',
      ]),
    ) as { items: Stored[] }
  ).items;

beforeAll(async () => {
  cluster = await startCluster({ crdsDir: join(PREVIOUS, 'crds') });
  await kubectl(cluster.kubeconfigPath, ['create', 'namespace', NAMESPACE]);
  await kubectl(cluster.kubeconfigPath, ['apply', '--server-side', '-f', join(PREVIOUS, 'objects.yaml')]);
  before = await list();
  // The upgrade: today's CRDs over the old ones, the way `kubectl apply -k manifests/` or helm does.
  await installCrds(cluster.kubeconfigPath, join(REPO_ROOT, 'crds'));
  await installControllerRbac(cluster.kubeconfigPath, { helmNamespaces: [] });
}, 180_000);

afterAll(async () => {
  await controller?.stop();
  await cluster?.stop();
});

describe('an upgrade from 0.1.0', () => {
  it('keeps every Project, Remediation and ProblemEvent with its spec', async () => {
    const fixture = parseAllDocuments(await readFile(join(PREVIOUS, 'objects.yaml'), 'utf8')).map(
      (d) => d.toJS() as Stored,
    );
    expect(before.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      fixture.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
    );
    const after = await list();
    expect(after.map((o) => [o.kind, o.metadata.name, o.metadata.uid, o.spec])).toEqual(
      before.map((o) => [o.kind, o.metadata.name, o.metadata.uid, o.spec]),
    );
  });

  it("are reconciled by today's controller: a Ready condition for each object's generation", async () => {
    controller = await startControllerProcess({
      kubeconfigPath: cluster.controllerKubeconfigPath,
      prometheusUrl: 'http://127.0.0.1:9',
      metricsPort: await freePort(),
      args: ['--namespace', NAMESPACE, '--lease-duration=3s'],
    });
    const { waitFor } = namespaceObjects({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: NAMESPACE,
      controllerOutput: () => controller?.process.recentOutput() ?? '',
    });
    for (const object of before) {
      const reconciled = await waitFor<Stored>(
        object.kind.toLowerCase() + '.rebound.dev',
        object.metadata.name,
        (o) => {
          const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
          return ready !== undefined && ready.observedGeneration === o.metadata.generation;
        },
        90_000,
      );
      expect(reconciled.metadata.uid).toBe(object.metadata.uid);
    }
  }, 300_000);
});
