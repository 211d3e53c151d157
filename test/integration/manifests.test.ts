// manifests/ applied as an operator would (`kubectl apply -k manifests/`) to a real API server, then
// held to least privilege: what the controller's ServiceAccount must be able to do, what it must not,
// the controller actually starting with that identity, and a hardened Deployment whose flags the
// controller accepts. (A full remediation under this RBAC is test/integration/loop.test.ts.)
//
// This file starts a cluster of its own: other tests bind extra roles to the same ServiceAccount in
// the shared cluster (loop.test.ts binds the helm role cluster-wide for its random namespaces), which
// would make "cannot" checks meaningless there.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseControllerConfig } from '../../src/config/controller.ts';
import { installCrds, startCluster } from '../harness/cluster.ts';
import { argocdCrdsDir } from '../harness/argocd.ts';
import { fluxCrdsDir } from '../harness/flux.ts';
import type { LocalCluster } from '../harness/cluster.ts';
import { freePort } from '../harness/ports.ts';
import { toolPath } from '../harness/tools.ts';
import { REPO_ROOT, kubectl, startControllerProcess } from '../harness/world.ts';
import { IMAGE_NODE_OPTIONS, POD_MEMORY_LIMIT_MIB } from '../bench/controller-process.ts';

const MANIFESTS = join(REPO_ROOT, 'manifests');
const STAGE_NAMESPACE = 'sockshop-production';

let cluster: LocalCluster;

/** `kubectl auth can-i` as the controller's ServiceAccount: exit 0 is yes, exit 1 is no. */
function controllerCan(args: string[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile(
      toolPath('kubectl'),
      ['--kubeconfig', cluster.controllerKubeconfigPath, 'auth', 'can-i', ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) => {
        if (!err && stdout.trim() === 'yes') resolve(true);
        else if (err?.code === 1 && stdout.trim().startsWith('no')) resolve(false);
        else
          reject(
            new Error(`kubectl auth can-i ${args.join(' ')}: ${stderr || stdout || (err?.message ?? 'no answer')}`),
          );
      },
    );
  });
}

interface Container {
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path?: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface DeploymentDoc {
  spec: {
    template: {
      spec: {
        serviceAccountName?: string;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
        volumes?: { name: string; emptyDir?: object; secret?: { secretName: string } }[];
      };
    };
  };
}

beforeAll(async () => {
  cluster = await startCluster();
  await kubectl(cluster.kubeconfigPath, ['apply', '--server-side', '-k', MANIFESTS]);
  await kubectl(cluster.kubeconfigPath, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd',
    '-l',
    'app.kubernetes.io/part-of=rebound',
  ]);
  // What an operator does per stage namespace where `apply: helm` runs (see the example's comment).
  await kubectl(cluster.kubeconfigPath, ['create', 'namespace', STAGE_NAMESPACE]);
  await kubectl(cluster.kubeconfigPath, ['apply', '-f', join(MANIFESTS, 'stage-rolebinding.example.yaml')]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('kubectl apply -k manifests/', () => {
  it('creates the namespace, every CRD of crds/, the ServiceAccount, RBAC, Deployment, Service and example Secrets', async () => {
    const names = async (args: string[]): Promise<string[]> =>
      (await kubectl(cluster.kubeconfigPath, ['get', ...args, '-o', 'name'])).split('\n').filter(Boolean).sort();
    const crdFiles = (await readdir(join(REPO_ROOT, 'crds'))).filter((f) => f.endsWith('.yaml'));
    const crdNames = await Promise.all(
      crdFiles.map(
        async (f) =>
          `customresourcedefinition.apiextensions.k8s.io/${(parse(await readFile(join(REPO_ROOT, 'crds', f), 'utf8')) as { metadata: { name: string } }).metadata.name}`,
      ),
    );
    expect(await names(['crd'])).toEqual(crdNames.sort());
    expect(await names(['namespace', 'rebound-system'])).toEqual(['namespace/rebound-system']);
    const ns = ['-n', 'rebound-system'];
    expect(await names(['serviceaccount', 'rebound-controller', ...ns])).toEqual(['serviceaccount/rebound-controller']);
    expect(await names(['deployment', ...ns])).toEqual(['deployment.apps/rebound-controller']);
    expect(await names(['service', ...ns])).toEqual(['service/rebound']);
    expect(await names(['secret', ...ns])).toEqual(['secret/rebound-webhook-token', 'secret/sockshop-git']);
    expect(await names(['clusterrole', 'rebound-controller', 'rebound-helm-applier'])).toHaveLength(2);
  });

  it('lists every CRD file in crds/Kustomization, so a new resource cannot be left out of the install', async () => {
    const kustomization = parse(await readFile(join(REPO_ROOT, 'crds', 'Kustomization'), 'utf8')) as {
      resources: string[];
    };
    const files = (await readdir(join(REPO_ROOT, 'crds'))).filter((f) => f.endsWith('.yaml')).sort();
    expect([...kustomization.resources].sort()).toEqual(files);
  });
});

describe("the controller's RBAC", () => {
  // A cluster that runs Flux and Argo CD (apply: flux, argocd), after the install test counted crds/:
  // `kubectl auth can-i` resolves only kinds the server knows.
  beforeAll(async () => {
    await installCrds(cluster.kubeconfigPath, fluxCrdsDir());
    await installCrds(cluster.kubeconfigPath, argocdCrdsDir());
  }, 120_000);

  it('allows what the loop needs', async () => {
    const must: string[][] = [
      // Informers over the resources in every namespace.
      ...['projects', 'remediations', 'problemevents', 'notifications'].flatMap((r) =>
        ['get', 'list', 'watch'].map((v) => [v, `${r}.rebound.dev`, '--all-namespaces']),
      ),
      // Status writes.
      ...['projects', 'remediations', 'problemevents', 'notifications'].map((r) => [
        'patch',
        `${r}.rebound.dev`,
        '--subresource=status',
        '-n',
        'sockshop',
      ]),
      // Webhooks create ProblemEvents and resolve them.
      ['create', 'problemevents.rebound.dev', '-n', 'rebound-system'],
      ['patch', 'problemevents.rebound.dev', '-n', 'rebound-system'],
      // A Project's Git credentials, by name.
      ['get', 'secrets', '-n', 'sockshop'],
      // Kubernetes Events for `kubectl describe`.
      ['create', 'events', '-n', 'sockshop'],
      ['patch', 'events', '-n', 'sockshop'],
      // The `kubernetes` applier: the scale subresource and the flag ConfigMap.
      ['patch', 'deployments.apps', '--subresource=scale', '-n', STAGE_NAMESPACE],
      ['create', 'configmaps', '-n', STAGE_NAMESPACE],
      ['patch', 'configmaps', '-n', STAGE_NAMESPACE],
      // Leader election in its own namespace.
      ['create', 'leases.coordination.k8s.io', '-n', 'rebound-system'],
      ['update', 'leases.coordination.k8s.io', '-n', 'rebound-system'],
      // The `helm` applier where it is bound: release records (Secrets) and the chart's workloads.
      ['list', 'secrets', '-n', STAGE_NAMESPACE],
      ['create', 'secrets', '-n', STAGE_NAMESPACE],
      ['patch', 'deployments.apps', '-n', STAGE_NAMESPACE],
      ['update', 'services', '-n', STAGE_NAMESPACE],
      // apply: flux: find, read and annotate Flux's objects; a helm/kubernetes stage reads its Deployment's labels.
      ['list', 'kustomizations.kustomize.toolkit.fluxcd.io', '--all-namespaces'],
      ['patch', 'kustomizations.kustomize.toolkit.fluxcd.io', '-n', 'flux-system'],
      ['list', 'gitrepositories.source.toolkit.fluxcd.io', '--all-namespaces'],
      ['patch', 'gitrepositories.source.toolkit.fluxcd.io', '-n', 'flux-system'],
      // apply: argocd: find, read and annotate Applications; read an AppProject's sync windows.
      ['list', 'applications.argoproj.io', '--all-namespaces'],
      ['patch', 'applications.argoproj.io', '-n', 'argocd'],
      ['get', 'appprojects.argoproj.io', '-n', 'argocd'],
      ['get', 'deployments.apps', '-n', STAGE_NAMESPACE],
      // "Applied" means live: the loop reads the rollout of the service's workloads.
      ['list', 'deployments.apps', '-n', STAGE_NAMESPACE],
      ['list', 'statefulsets.apps', '-n', STAGE_NAMESPACE],
      ['list', 'horizontalpodautoscalers.autoscaling', '-n', STAGE_NAMESPACE],
    ];
    const denied: string[] = [];
    for (const args of must) if (!(await controllerCan(args))) denied.push(args.join(' '));
    expect(denied).toEqual([]);
  });

  it('refuses what the loop does not need', async () => {
    const mustNot: string[][] = [
      ['list', 'secrets', '--all-namespaces'],
      ['list', 'secrets', '-n', 'kube-system'],
      ['watch', 'secrets', '-n', 'default'],
      ['delete', 'deployments.apps', '-n', 'default'],
      ['patch', 'deployments.apps', '-n', 'default'],
      ['create', 'deployments.apps', '-n', 'kube-system'],
      ['delete', 'secrets', '-n', 'rebound-system'],
      ['create', 'pods', '-n', STAGE_NAMESPACE],
      ['create', 'pods/exec', '-n', STAGE_NAMESPACE],
      ['delete', 'problemevents.rebound.dev', '-n', 'sockshop'],
      ['update', 'problemevents.rebound.dev', '-n', 'sockshop'],
      ['create', 'projects.rebound.dev', '-n', 'sockshop'],
      ['patch', 'remediations.rebound.dev', '-n', 'sockshop'],
      ['update', 'leases.coordination.k8s.io', '-n', 'kube-system'],
      ['create', 'namespaces'],
      ['delete', 'namespaces'],
      ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
      ['create', 'rolebindings.rbac.authorization.k8s.io', '-n', STAGE_NAMESPACE],
      ['escalate', 'clusterroles.rbac.authorization.k8s.io'],
      ['impersonate', 'serviceaccounts', '-n', 'rebound-system'],
      ['create', 'customresourcedefinitions.apiextensions.k8s.io'],
      // Rebound asks Flux to reconcile; it never changes or removes what Flux syncs.
      ['update', 'kustomizations.kustomize.toolkit.fluxcd.io', '-n', 'flux-system'],
      ['delete', 'gitrepositories.source.toolkit.fluxcd.io', '-n', 'flux-system'],
      ['create', 'kustomizations.kustomize.toolkit.fluxcd.io', '-n', 'flux-system'],
      ['patch', 'appprojects.argoproj.io', '-n', 'argocd'],
      ['update', 'applications.argoproj.io', '-n', 'argocd'],
      ['*', '*'],
    ];
    const allowed: string[] = [];
    for (const args of mustNot) if (await controllerCan(args)) allowed.push(args.join(' '));
    expect(allowed).toEqual([]);
  });

  it('is enough for `rebound controller` to sync its informers and take the Lease as the ServiceAccount', async () => {
    const controller = await startControllerProcess({
      kubeconfigPath: cluster.controllerKubeconfigPath,
      prometheusUrl: 'http://127.0.0.1:9',
      metricsPort: await freePort(),
      args: ['--lease-duration=5s'],
      name: 'rebound-controller (manifests RBAC)',
    });
    try {
      // startControllerProcess returned: /readyz answered, which needs synced informers and known leadership.
      const holder = await kubectl(cluster.kubeconfigPath, [
        'get',
        'lease',
        'rebound-controller',
        '-n',
        'rebound-system',
        '-o',
        'jsonpath={.spec.holderIdentity}',
      ]);
      expect(holder).toContain(String(controller.process.pid));
      const metrics = await (await fetch(`${controller.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/^rebound_leader 1$/m);
      expect(controller.process.recentOutput()).not.toMatch(/forbidden/i);
    } finally {
      await controller.stop();
    }
  }, 90_000);
});

async function deployment(): Promise<{ doc: DeploymentDoc; container: Container }> {
  const text = await readFile(join(MANIFESTS, 'deployment.yaml'), 'utf8');
  const doc = parseAllDocuments(text)[0]?.toJS() as DeploymentDoc;
  const container = doc.spec.template.spec.containers[0];
  if (!container) throw new Error('deployment.yaml has no container');
  return { doc, container };
}

describe('the Deployment', () => {
  it("starts pods that the API server's PodSecurity admission accepts under the namespace's restricted level", async () => {
    const applied = JSON.parse(
      await kubectl(cluster.kubeconfigPath, [
        'get',
        'deployment',
        'rebound-controller',
        '-n',
        'rebound-system',
        '-o',
        'json',
      ]),
    ) as DeploymentDoc & { spec: { template: { metadata?: object } } };
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'rebound-controller-pss-check', namespace: 'rebound-system' },
      spec: applied.spec.template.spec,
    };
    // A server-side dry run goes through admission (PodSecurity included) without storing the pod.
    const created = await kubectl(
      cluster.kubeconfigPath,
      ['create', '--dry-run=server', '-o', 'name', '-f', '-'],
      JSON.stringify(pod),
    );
    expect(created.trim()).toBe('pod/rebound-controller-pss-check');
    // The check is real: the same pod with root allowed is refused.
    const rooted = {
      ...pod,
      spec: { ...pod.spec, securityContext: { ...pod.spec.securityContext, runAsNonRoot: false, runAsUser: 0 } },
    };
    await expect(
      kubectl(cluster.kubeconfigPath, ['create', '--dry-run=server', '-f', '-'], JSON.stringify(rooted)),
    ).rejects.toThrow(/violates PodSecurity "restricted/);
  });

  it('passes only flags that `rebound controller` accepts, with authentication on its webhooks', async () => {
    const { container } = await deployment();
    const [subcommand, ...flags] = container.args ?? [];
    expect(subcommand).toBe('controller');
    const config = parseControllerConfig(flags, { POD_NAMESPACE: 'rebound-system' });
    expect(config.webhookAddress).not.toBe('');
    expect(config.webhookTokenFile).toBeDefined();
    expect(config.leaderElect).toBe(true);
    expect(config.prometheusUrl).toMatch(/^https?:\/\//);
    // The addresses listen on the container ports the Service and the probes use.
    const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(config.metricsAddress).toBe(`0.0.0.0:${String(ports.get('metrics'))}`);
    expect(config.webhookAddress).toBe(`0.0.0.0:${String(ports.get('webhooks'))}`);
  });

  it('has probes on /healthz and /readyz, resources, and runs non-root on a read-only root with writable work and tmp dirs', async () => {
    const { doc, container } = await deployment();
    const pod = doc.spec.template.spec;
    expect(pod.serviceAccountName).toBe('rebound-controller');
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.resources?.requests).toMatchObject({
      cpu: expect.any(String) as string,
      memory: expect.any(String) as string,
    });
    expect(container.resources?.limits).toMatchObject({ memory: expect.any(String) as string });
    // The heap is a share of the memory limit, as the image and the benchmarks that measured it set it.
    expect(container.resources?.limits?.['memory']).toBe(`${String(POD_MEMORY_LIMIT_MIB)}Mi`);
    expect(container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(IMAGE_NODE_OPTIONS);
    const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`NODE_OPTIONS="${IMAGE_NODE_OPTIONS}"`);
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });

    const config = parseControllerConfig((container.args ?? []).slice(1), { POD_NAMESPACE: 'rebound-system' });
    const mountOf = (path: string): { name: string; readOnly?: boolean } | undefined =>
      container.volumeMounts?.find((m) => m.mountPath === path);
    const volume = (name: string | undefined): { emptyDir?: object; secret?: { secretName: string } } | undefined =>
      pod.volumes?.find((v) => v.name === name);
    for (const dir of [config.workDir, '/tmp']) {
      const mount = mountOf(dir);
      expect(mount, `${dir} is mounted`).toBeDefined();
      expect(mount?.readOnly).not.toBe(true);
      expect(volume(mount?.name)?.emptyDir, `${dir} is an emptyDir`).toBeDefined();
    }
    // The webhook token comes from the Secret that secrets.example.yaml defines, read-only.
    const tokenDir = (config.webhookTokenFile ?? '').replace(/\/[^/]+$/, '');
    const tokenMount = mountOf(tokenDir);
    expect(tokenMount?.readOnly).toBe(true);
    const secretName = volume(tokenMount?.name)?.secret?.secretName;
    const secrets = parseAllDocuments(await readFile(join(MANIFESTS, 'secrets.example.yaml'), 'utf8')).map(
      (d) => d.toJS() as { metadata: { name: string }; stringData?: Record<string, string> },
    );
    const tokenKey = (config.webhookTokenFile ?? '').split('/').pop() ?? '';
    expect(secrets.find((s) => s.metadata.name === secretName)?.stringData?.[tokenKey]).toBeDefined();
  });
});

// The image is built and run by image.test.ts; this holds the Dockerfile's text to the package and to
// the Deployment that runs it, and fails in seconds where the build takes minutes.
describe('the Dockerfile', () => {
  it("copies what exists, runs bin/rebound.js on the compiled dist/ as the Deployment's non-root user, with HOME on the work dir", async () => {
    const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    // Every COPY from the build context names files of this checkout.
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources)
      await expect(
        readFile(join(REPO_ROOT, source)).catch((err: NodeJS.ErrnoException) => err.code),
        source,
      ).resolves.not.toBe('ENOENT');
    // The compiled entry point bin/rebound.js looks for is where tsconfig.build.json puts it.
    const build = parse(await readFile(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(await readFile(join(REPO_ROOT, 'bin', 'rebound.js'), 'utf8')).toContain("'../dist/cli/main.js'");
    expect(dockerfile).toMatch(/^RUN npx tsc -p tsconfig\.build\.json/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=docker\.io\/library\/node:24[-\w.]*$/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\}$/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]* git /);
    expect(dockerfile).toMatch(/^COPY --from=helm \S+ \/usr\/local\/bin\/helm$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[.*"node", "\/app\/bin\/rebound\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["controller"\]$/m);

    const { doc, container } = await deployment();
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    expect(Number(user?.[1])).toBe(doc.spec.template.spec.securityContext?.runAsUser);
    const config = parseControllerConfig((container.args ?? []).slice(1), { POD_NAMESPACE: 'rebound-system' });
    // Helm and Git write under HOME: on a read-only root it must be the writable work dir.
    expect(/^ENV .*\bHOME=(\S+)/m.exec(dockerfile)?.[1]).toBe(config.workDir);
  });
});
