// The kube facade against the real kube-apiserver: typed CRUD for the rebound.dev resources,
// merge-patch of /status, 409 handling, error classification, Events, the Lease store, and the
// metadata-only read of a Deployment's GitOps owner.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { AppsV1Api, EventsV1Api } from '@kubernetes/client-node';
import { deploymentOwner } from '../../src/apply/index.ts';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ReboundError } from '../../src/errors.ts';
import {
  KUBE_ERROR_CODES,
  KubeError,
  kubeEventRecorder,
  kubeLeaseStore,
  reboundClients,
  type ReboundClients,
} from '../../src/kube/index.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { adminKubeConfig, freshNamespace, problemEvent } from './runtime-helpers.ts';

const cluster = inject('cluster');
const kc = adminKubeConfig(cluster.kubeconfigPath);
let clients: ReboundClients;
let ns: string;

beforeAll(async () => {
  clients = reboundClients(kc);
  ns = await freshNamespace(kc, 'kube');
});

async function rejection(p: Promise<unknown>): Promise<KubeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KubeError);
    return err as KubeError;
  }
  throw new Error('expected the call to fail');
}

describe('CustomResourceClient (real API server)', () => {
  it('creates, gets and lists ProblemEvents; a second create returns the existing object', async () => {
    const first = await clients.problemEvents.create(problemEvent(ns, 'p-create'));
    expect(first.created).toBe(true);
    expect(first.object?.metadata.uid).toBeTruthy();
    expect(first.object?.spec.state).toBe('OPEN');

    const again = await clients.problemEvents.create({
      ...problemEvent(ns, 'p-create'),
      spec: { ...problemEvent(ns, 'x').spec, service: 'other' },
    });
    expect(again.created).toBe(false);
    expect(again.object?.metadata.uid).toBe(first.object?.metadata.uid);
    expect(again.object?.spec.service).toBe('carts'); // untouched

    expect((await clients.problemEvents.get(ns, 'p-create'))?.metadata.uid).toBe(first.object?.metadata.uid);
    expect(await clients.problemEvents.get(ns, 'does-not-exist')).toBeUndefined();

    const inNs = await clients.problemEvents.list(ns);
    expect(inNs.items.map((p) => p.metadata.name)).toContain('p-create');
    expect(inNs.resourceVersion).toMatch(/^\d+$/);
    const everywhere = await clients.problemEvents.list();
    expect(everywhere.items.some((p) => p.metadata.namespace === ns && p.metadata.name === 'p-create')).toBe(true);
  });

  it('pages through lists larger than one page', async () => {
    const pageNs = await freshNamespace(kc, 'paging');
    // Bounded concurrency: the API server limits streams per connection.
    for (let i = 0; i < 520; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, 520 - i) }, (_, j) =>
          clients.problemEvents.create(problemEvent(pageNs, `p-${i + j}`)),
        ),
      );
    }
    const listed = await clients.problemEvents.list(pageNs);
    expect(listed.items).toHaveLength(520);
    expect(new Set(listed.items.map((p) => p.metadata.name)).size).toBe(520);
  });

  it('merge-patches status without touching spec, and merges fields across patches', async () => {
    const created = await clients.problemEvents.create(problemEvent(ns, 'p-status'));
    const generation = created.object?.metadata.generation;
    const afterFirst = await clients.problemEvents.patchStatus(ns, 'p-status', {
      phase: 'Remediating',
      currentAttempt: 1,
    });
    expect(afterFirst.status?.phase).toBe('Remediating');
    const afterSecond = await clients.problemEvents.patchStatus(ns, 'p-status', { currentAction: 'scale +1' });
    expect(afterSecond.status).toMatchObject({ phase: 'Remediating', currentAttempt: 1, currentAction: 'scale +1' });
    expect(afterSecond.spec.problemTitle).toBe('Response time degradation');
    expect(afterSecond.metadata.generation).toBe(generation); // status writes do not bump generation

    // spec sent along a status patch is ignored by the status subresource
    const read = await clients.problemEvents.get(ns, 'p-status');
    expect(read?.spec.state).toBe('OPEN');
  });

  it('rejects a status patch carrying a stale resourceVersion with a retryable conflict', async () => {
    const created = await clients.problemEvents.create(problemEvent(ns, 'p-conflict'));
    const staleRv = created.object?.metadata.resourceVersion ?? '';
    await clients.problemEvents.patchStatus(ns, 'p-conflict', { phase: 'Pending' }, staleRv);
    const err = await rejection(clients.problemEvents.patchStatus(ns, 'p-conflict', { phase: 'Remediating' }, staleRv));
    expect(err.code).toBe(KUBE_ERROR_CODES.Conflict);
    expect(err.reason).toBeUndefined(); // the caller names the condition reason
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(409);
    expect((await clients.problemEvents.get(ns, 'p-conflict'))?.status?.phase).toBe('Pending');
  });

  it('classifies schema violations as invalid and not retryable', async () => {
    const bad = problemEvent(ns, 'p-invalid');
    (bad.spec as { state: string }).state = 'MAYBE';
    const err = await rejection(clients.problemEvents.create(bad));
    expect(err.code).toBe(KUBE_ERROR_CODES.Invalid);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('create problemevents');
    expect(err.message).toContain('state');
    const statusErr = await rejection(
      clients.problemEvents.patchStatus(ns, 'p-status', { phase: 'Sleeping' as 'Pending' }),
    );
    expect(statusErr.code).toBe(KUBE_ERROR_CODES.Invalid);
  });

  it('classifies patching a missing object as not found', async () => {
    const err = await rejection(clients.problemEvents.patchStatus(ns, 'ghost', { phase: 'Pending' }));
    expect(err.code).toBe(KUBE_ERROR_CODES.NotFound);
    expect(err.retryable).toBe(false);
    expect(await clients.problemEvents.delete(ns, 'ghost')).toBe(false);
  });

  it('patches metadata (finalizers, labels) with merge-patch and deletes', async () => {
    await clients.problemEvents.create(problemEvent(ns, 'p-meta'));
    const patched = await clients.problemEvents.patch(ns, 'p-meta', {
      metadata: { labels: { 'rebound.dev/service': 'carts' } },
    });
    expect(patched.metadata.labels).toEqual({ 'rebound.dev/service': 'carts' });
    expect(await clients.problemEvents.delete(ns, 'p-meta')).toBe(true);
    expect(await clients.problemEvents.get(ns, 'p-meta')).toBeUndefined();
  });

  it('classifies a refused connection as unavailable and retryable', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const down = reboundClients(adminKubeConfig(cluster.kubeconfigPath, `https://127.0.0.1:${port}`));
    const err = await rejection(down.problemEvents.get(ns, 'anything'));
    expect(err.code).toBe(KUBE_ERROR_CODES.Unavailable);
    expect(err.reason).toBeUndefined(); // the caller names the condition reason
    expect(err.retryable).toBe(true);
  });

  it('classifies a bad token as unauthorized', async () => {
    const kcBad = adminKubeConfig(cluster.kubeconfigPath);
    const user = kcBad.getCurrentUser();
    if (!user) throw new Error('no user in kubeconfig');
    (user as { token?: string }).token = 'not-a-valid-token';
    const certless = user as { certData?: string; keyData?: string; certFile?: string; keyFile?: string };
    delete certless.certData;
    delete certless.keyData;
    delete certless.certFile;
    delete certless.keyFile;
    const err = await rejection(reboundClients(kcBad).problemEvents.list(ns));
    expect(err.code).toBe(KUBE_ERROR_CODES.Unauthorized);
    // Retried with backoff: a restarting API server answers 401/403 while it loads its authorizers.
    expect(err.retryable).toBe(true);
    expect(err).toBeInstanceOf(ReboundError);
  });
});

describe('Event recorder (real API server)', () => {
  it('records an events.k8s.io/v1 Event regarding the object', async () => {
    const created = await clients.problemEvents.create(problemEvent(ns, 'p-events'));
    const object = created.object;
    if (!object) throw new Error('not created');
    const recorder = kubeEventRecorder(kc, {
      controller: 'rebound.dev/controller',
      instance: 'test-replica',
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
    });
    await recorder.record(object, 'Normal', 'ActionCommitted', 'Commit', 'committed scale +1 to production as abc123');
    await recorder.record(object, 'Warning', 'ApplyFailed', 'Apply', 'x'.repeat(5_000));
    const events = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns });
    const mine = events.items.filter((e) => e.regarding?.name === 'p-events');
    expect(mine.map((e) => e.reason).sort()).toEqual(['ActionCommitted', 'ApplyFailed']);
    const committed = mine.find((e) => e.reason === 'ActionCommitted');
    expect(committed).toMatchObject({
      type: 'Normal',
      action: 'Commit',
      note: 'committed scale +1 to production as abc123',
      reportingController: 'rebound.dev/controller',
      reportingInstance: 'test-replica',
    });
    expect(committed?.regarding).toMatchObject({ kind: 'ProblemEvent', uid: object.metadata.uid });
    expect(mine.find((e) => e.reason === 'ApplyFailed')?.note?.length).toBeLessThanOrEqual(1024);
  });

  it('folds repeats of one event into a series instead of new objects', async () => {
    const created = await clients.problemEvents.create(problemEvent(ns, 'p-series'));
    const object = created.object;
    if (!object) throw new Error('not created');
    const recorder = kubeEventRecorder(kc, {
      controller: 'rebound.dev/controller',
      instance: 'test-replica',
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
    });
    for (let i = 0; i < 3; i++)
      await recorder.record(object, 'Warning', 'ApplyFailed', 'Apply', 'helm upgrade failed: exit 1');
    await recorder.record(object, 'Normal', 'ActionApplied', 'Apply', 'applied');
    const events = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: ns });
    const mine = events.items.filter((e) => e.regarding?.name === 'p-series');
    expect(mine).toHaveLength(2);
    const failed = mine.find((e) => e.reason === 'ApplyFailed');
    expect(failed?.series?.count).toBe(3);
    expect(failed?.series?.lastObservedTime).toBeTruthy();
    expect(mine.find((e) => e.reason === 'ActionApplied')?.series).toBeUndefined();
  });

  it('never throws when the API refuses the event', async () => {
    const recorder = kubeEventRecorder(adminKubeConfig(cluster.kubeconfigPath), {
      controller: 'rebound.dev/controller',
      instance: 'test-replica',
      clock: systemClock,
      log: createLogger({ level: 'silent' }),
    });
    const subject = {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'ProblemEvent',
      metadata: { name: 'x', namespace: 'no-such-namespace-here' },
    };
    await expect(recorder.record(subject, 'Normal', 'Queued', 'Queue', 'queued')).resolves.toBeUndefined();
  });
});

describe('Lease store (real API server)', () => {
  it('creates, reads and updates a Lease with optimistic concurrency and microsecond times', async () => {
    const store = kubeLeaseStore(kc, { namespace: ns, name: 'store-test' });
    expect(await store.get()).toBeUndefined();
    const acquired = new Date(Date.UTC(2026, 10, 22, 5, 0, 0, 123));
    const rv1 = await store.create({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
      acquireTime: acquired,
      renewTime: acquired,
    });
    const read = await store.get();
    expect(read?.resourceVersion).toBe(rv1);
    expect(read?.record).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(read?.record.acquireTime?.getTime()).toBe(acquired.getTime());

    const rv2 = await store.update(
      {
        ...(read?.record ?? { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 }),
        holderIdentity: 'b',
        leaseTransitions: 1,
      },
      rv1,
    );
    expect(rv2).not.toBe(rv1);
    const stale = await rejection(
      store.update({ holderIdentity: 'c', leaseDurationSeconds: 15, leaseTransitions: 2 }, rv1),
    );
    expect(stale.code).toBe(KUBE_ERROR_CODES.Conflict);
    const dup = await rejection(store.create({ holderIdentity: 'c', leaseDurationSeconds: 15, leaseTransitions: 0 }));
    expect(dup.code).toBe(KUBE_ERROR_CODES.AlreadyExists);
    expect((await store.get())?.record.holderIdentity).toBe('b');
  });
});

describe('GitOps owner of a Deployment (real API server)', () => {
  async function deployment(name: string, labels: Record<string, string>, annotations: Record<string, string> = {}) {
    const match = { app: name };
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name, labels, annotations },
        spec: {
          selector: { matchLabels: match },
          template: { metadata: { labels: match }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
        },
      },
    });
  }

  it('names the engine from the metadata alone, and nothing for an unmanaged or missing Deployment', async () => {
    await deployment('flux-managed', {
      'kustomize.toolkit.fluxcd.io/name': 'apps',
      'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
    });
    await deployment('argo-managed', {}, { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:x/argo-managed' });
    await deployment('unmanaged', { app: 'unmanaged' });
    const owner = deploymentOwner(kc);
    expect(await owner(ns, 'flux-managed')).toBe(
      'Deployment flux-managed is managed by Flux Kustomization flux-system/apps',
    );
    expect(await owner(ns, 'argo-managed')).toBe('Deployment argo-managed is managed by Argo CD Application shop');
    expect(await owner(ns, 'unmanaged')).toBeUndefined();
    expect(await owner(ns, 'no-such-deployment')).toBeUndefined();
  });
});
