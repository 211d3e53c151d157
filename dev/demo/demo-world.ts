// The world `make demo` runs in: the same real parts as test/integration/loop.test.ts (kube-apiserver
// + etcd, git http-backend, helm, Prometheus scraping the sample workload, `rebound controller` as a
// child process with its ServiceAccount's RBAC) plus Alertmanager posting to the controller's webhook.
// Every part is started as one named step whose duration is reported, and registered for stopping
// in reverse order, so a failure half-way (or Ctrl-C) leaves nothing running.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Remediation, RemediationAction } from '../../src/api/index.ts';
import { parseRemediationFile } from '../../src/formats/remediation.ts';
import type { RemediationPolicy } from '../../src/formats/remediation.ts';
import { startAlertmanager } from '../../test/harness/alertmanager.ts';
import type { LocalAlertmanager } from '../../test/harness/alertmanager.ts';
import { startCluster } from '../../test/harness/cluster.ts';
import type { LocalCluster } from '../../test/harness/cluster.ts';
import { startGitServer } from '../../test/harness/git-server.ts';
import type { GitServer } from '../../test/harness/git-server.ts';
import { seedKeptnRepo } from '../../test/harness/keptn-repo.ts';
import { freePort } from '../../test/harness/ports.ts';
import { registerTempDir, removeTempDir, runCommand, waitUntil } from '../../test/harness/process.ts';
import { ARGOCD_NAMESPACE, startArgoCd } from '../../test/harness/argocd.ts';
import { FLUX_NAMESPACE, startFlux } from '../../test/harness/flux.ts';
import { toolPath } from '../../test/harness/tools.ts';
import { startPrometheus } from '../../test/harness/prometheus.ts';
import type { LocalPrometheus } from '../../test/harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo, startSampleWorkload } from '../../test/harness/sample-workload.ts';
import type { SampleWorkload } from '../../test/harness/sample-workload.ts';
import {
  REPO_ROOT,
  applyObjects,
  deployService,
  installControllerRbac,
  kubectl,
  startControllerProcess,
} from '../../test/harness/world.ts';
import type { ControllerProcess } from '../../test/harness/world.ts';

export const DEMO_PROJECT = 'sockshop';
export const DEMO_SERVICE = 'carts';
export const DEMO_STAGES = ['dev', 'staging', 'production'] as const;
export const DEMO_STAGE = 'production';
/** The sample project's files: the demo runs from a checkout of the repository. */
export const DEMO_EXAMPLES_DIR = join(REPO_ROOT, 'examples', DEMO_PROJECT);
/** Where the Project lives and where the webhook creates ProblemEvents. */
export const DEMO_NAMESPACE = DEMO_PROJECT;
export const DEMO_PROBLEM_TITLE = 'Response time degradation';
/** The default objective: p95 below this many milliseconds. */
export const DEMO_OBJECTIVE_MS = 600;

// examples/sockshop's slo.yaml and sli.yaml are written for the real carts service (histograms, error
// rates). The sample workload exports one gauge, so the demo's project carries SAMPLE_SLI and
// sampleSlo instead: one objective that scaling alone (900 ms/√2 = 636 ms) misses and the flag
// (300 ms/√2 = 212 ms) meets.

export interface DemoOptions {
  /** Reports each step: called with the label before it starts, then with its duration and a detail. */
  progress: StepReporter;
  /** Controller flags for a fast loop (`--evaluation-wait=5s` ...). */
  controllerArgs: readonly string[];
  /** The SLO: p95 below this many milliseconds. */
  objectiveMs: number;
  /**
   * The wait before each evaluation: the shipyard's evaluation task says 2m (its `triggeredAfter`,
   * which the controller follows), so the demo's copy of the shipyard says this instead.
   */
  evaluationWait: string;
  /** Aborted (Ctrl-C): no further step starts; what was started is stopped. */
  signal?: AbortSignal;
  /**
   * `argocd`: Argo CD (application-controller, repo-server) syncs the production branch, rendering
   * the chart, and the stage is `apply: argocd`. `flux`: Flux (source-controller,
   * kustomize-controller) applies carts' chart rendered to plain manifests on the branch, and the
   * stage is `apply: flux`. Without either, Rebound runs `helm upgrade`.
   */
  gitops?: 'argocd' | 'flux';
}

/** The Argo CD Application that syncs carts in production (`--gitops argocd`). */
export const DEMO_ARGOCD_APPLICATION = `carts-${DEMO_STAGE}`;
/** The Flux GitRepository and Kustomization that apply carts in production (`--gitops flux`). */
export const DEMO_FLUX_KUSTOMIZATION = `carts-${DEMO_STAGE}`;
/** `--gitops flux`: carts' chart rendered by `helm template` into one file of plain manifests, on every stage branch. */
export const DEMO_MANIFESTS = `${DEMO_SERVICE}/manifests/${DEMO_SERVICE}.yaml`;

export interface StepReporter {
  start(label: string): void;
  done(label: string, ms: number, detail: string): void;
}

export interface DemoWorld {
  cluster: LocalCluster;
  git: GitServer;
  repo: { url: string; dir: string };
  workload: SampleWorkload;
  prometheus: LocalPrometheus;
  controller: ControllerProcess;
  webhookUrl: string;
  /** The controller's web UI (--ui-address). */
  uiUrl: string;
  alertmanager: LocalAlertmanager;
  /** The actions of the policy entry for the demo's problem, in order. */
  actions: RemediationAction[];
  /** Where the policy comes from, as the timeline's header says it. */
  policySource: string;
  /** Stops everything started so far, last started first. Idempotent; never throws. */
  stop(): Promise<string[]>;
}

/** Runs `fn` as a reported step, unless the demo was interrupted. */
async function step<T>(
  options: DemoOptions,
  label: string,
  fn: () => Promise<T>,
  detail: (value: T) => string,
): Promise<T> {
  options.signal?.throwIfAborted();
  const reporter = options.progress;
  reporter.start(label);
  const started = performance.now();
  const value = await fn();
  reporter.done(label, performance.now() - started, detail(value));
  return value;
}

/** A stack of stop functions; `stop()` runs them newest first and collects (not throws) their errors. */
class Stopper {
  readonly #stack: { name: string; stop: () => Promise<void> }[] = [];
  #stopping: Promise<string[]> | undefined;

  push(name: string, stop: () => Promise<void>): void {
    this.#stack.push({ name, stop });
  }

  stop(): Promise<string[]> {
    this.#stopping ??= (async () => {
      const errors: string[] = [];
      for (const { name, stop } of this.#stack.reverse()) {
        try {
          await stop();
        } catch (err) {
          errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return errors;
    })();
    return this.#stopping;
  }
}

/**
 * Starts the whole demo world. On failure everything already started is stopped before the error is
 * rethrown. `register` receives the stopper at once, so a signal handler can stop a world that is
 * still starting.
 */
export async function startDemoWorld(
  options: DemoOptions,
  register: (stop: () => Promise<string[]>) => void,
): Promise<DemoWorld> {
  const stopper = new Stopper();
  register(() => stopper.stop());
  try {
    const cluster = await step(
      options,
      'Kubernetes cluster',
      () => startCluster({ crdsDir: join(REPO_ROOT, 'crds'), workloads: { nodes: 2 } }),
      (c) =>
        `etcd + kube-apiserver at ${c.server}, rebound.dev CRDs established; kube-controller-manager, kube-scheduler and KWOK nodes ${c.nodes.join(', ')}: pods roll out`,
    );
    stopper.push('cluster', () => cluster.stop());
    const admin = cluster.kubeconfigPath;

    const git = await step(
      options,
      'Git server',
      () => startGitServer({ username: 'rebound-bot', password: randomBytes(12).toString('hex') }),
      (g) => `git http-backend at ${g.url}`,
    );
    stopper.push('git server', () => git.stop());
    const { repo, actions, policy } = await step(
      options,
      'sockshop repository',
      () => createSockshopRepo(git, options.objectiveMs, options.evaluationWait, options.gitops),
      (r) =>
        `${r.repo.url}: shipyard.yaml on main; carts on ${DEMO_STAGES.join(', ')}` +
        (options.gitops === 'flux' ? `, its chart rendered to ${DEMO_MANIFESTS} (helm template) for Flux` : ''),
    );

    const stageNamespaces = DEMO_STAGES.map((s) => `${DEMO_PROJECT}-${s}`);
    const gitops = options.gitops;
    await step(
      options,
      'project and RBAC',
      async () => {
        // The helm applier's role is bound where remediation runs (production), as an operator would.
        await installControllerRbac(admin, { helmNamespaces: [`${DEMO_PROJECT}-${DEMO_STAGE}`] });
        // The web UI is on in the demo: its TokenReviews and SubjectAccessReviews.
        await kubectl(admin, ['apply', '--server-side', '-f', join(REPO_ROOT, 'manifests', 'ui-rbac.yaml')]);
        await applyObjects(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE } }]);
        await applyObjects(admin, [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'sockshop-git', namespace: DEMO_NAMESPACE },
            stringData: { username: git.username, token: git.password },
          },
          {
            apiVersion: 'rebound.dev/v1alpha1',
            kind: 'Project',
            metadata: { name: DEMO_PROJECT, namespace: DEMO_NAMESPACE },
            // No spec.stages: they come from shipyard.yaml, as in Keptn (remediation where it has a remediation sequence).
            // With --gitops, the stages say so: production is synced by the engine, Rebound only commits.
            spec: {
              git: {
                url: repo.url,
                secretRef: { name: 'sockshop-git' },
                author: { name: 'Rebound', email: 'rebound@example.com' },
                defaultBranch: 'main',
                poll: '10s',
              },
              ...(gitops
                ? {
                    stages: DEMO_STAGES.map((stage) =>
                      stage === DEMO_STAGE
                        ? {
                            name: stage,
                            remediation: 'automated',
                            apply: gitops,
                            // Named: the Application's path is the chart while the action edits carts/values.yaml.
                            gitops: {
                              objects: [
                                gitops === 'argocd'
                                  ? `${ARGOCD_NAMESPACE}/${DEMO_ARGOCD_APPLICATION}`
                                  : `${FLUX_NAMESPACE}/${DEMO_FLUX_KUSTOMIZATION}`,
                              ],
                              timeout: '2m',
                            },
                          }
                        : { name: stage, remediation: 'disabled' },
                    ),
                  }
                : {}),
            },
          },
          // Flux applies the rendered manifests: the Remediation names the file and where replicas and
          // flags are in it; its entries are carts/remediation.yaml's.
          ...(gitops === 'flux' ? [manifestsRemediation(policy)] : []),
        ]);
      },
      () =>
        `ServiceAccount rebound-system/rebound-controller (manifests/rbac.yaml), Project ${DEMO_NAMESPACE}/${DEMO_PROJECT}` +
        (gitops === 'flux'
          ? `, Remediation ${DEMO_NAMESPACE}/${DEMO_REMEDIATION} (carts/remediation.yaml's entries; replicas at spec.replicas and flags at data in ${DEMO_MANIFESTS})`
          : ''),
    );

    await step(
      options,
      'carts with Helm',
      async () => {
        for (const [i, stage] of DEMO_STAGES.entries()) {
          // With --gitops, the engine deploys production (next step).
          if (gitops && stage === DEMO_STAGE) continue;
          await deployService({
            kubeconfigPath: admin,
            repoDir: repo.dir,
            branch: stage,
            service: DEMO_SERVICE,
            namespace: stageNamespaces[i] ?? '',
          });
        }
      },
      () =>
        `release carts revision 1 in ${stageNamespaces.filter((n) => !gitops || n !== `${DEMO_PROJECT}-${DEMO_STAGE}`).join(', ')}`,
    );

    if (gitops === 'argocd') {
      await step(
        options,
        'Argo CD',
        async () => {
          const started = await startArgoCd({
            kubeconfigPath: admin,
            repositories: [{ url: repo.url, username: git.username, password: git.password }],
          });
          stopper.push('argo cd', () => started.stop());
          await applyObjects(admin, [argocdApplication(repo.url)]);
          await waitForEngine(
            admin,
            `Argo CD Application ${DEMO_ARGOCD_APPLICATION} Synced and Healthy`,
            {
              resource: 'application',
              name: DEMO_ARGOCD_APPLICATION,
              namespace: ARGOCD_NAMESPACE,
              jsonpath: '{.status.sync.status} {.status.health.status} {.status.conditions[*].message}',
            },
            (printed) => printed.startsWith('Synced Healthy'),
          );
          return started;
        },
        () =>
          `application-controller + repo-server v3.2.11; Application ${ARGOCD_NAMESPACE}/${DEMO_ARGOCD_APPLICATION} renders carts/chart from ${DEMO_STAGE}: Synced, Healthy`,
      );
    }

    if (gitops === 'flux') {
      await step(
        options,
        'Flux',
        async () => {
          const started = await startFlux({ kubeconfigPath: admin });
          stopper.push('flux', () => started.stop());
          await applyObjects(admin, [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: FLUX_NAMESPACE } },
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${DEMO_PROJECT}-${DEMO_STAGE}` } },
          ]);
          await applyObjects(admin, fluxObjects(repo.url, git));
          await waitForEngine(
            admin,
            `Flux Kustomization ${DEMO_FLUX_KUSTOMIZATION} Ready`,
            {
              resource: 'kustomization',
              name: DEMO_FLUX_KUSTOMIZATION,
              namespace: FLUX_NAMESPACE,
              jsonpath:
                '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}',
            },
            (printed) => printed.startsWith('True'),
          );
          return started;
        },
        () =>
          `source-controller + kustomize-controller; Kustomization ${FLUX_NAMESPACE}/${DEMO_FLUX_KUSTOMIZATION} applies ${DEMO_SERVICE}/manifests from ${DEMO_STAGE}: Ready`,
      );
    }

    const workload = await step(
      options,
      'sample workload',
      () =>
        startSampleWorkload({
          kubeconfigPath: admin,
          targets: DEMO_STAGES.map((stage, i) => ({
            project: DEMO_PROJECT,
            stage,
            service: DEMO_SERVICE,
            namespace: stageNamespaces[i] ?? '',
          })),
        }),
      (w) => `metrics at http://${w.address}/metrics follow carts' replicas and EnablePromotion flag`,
    );
    stopper.push('sample workload', () => workload.stop());

    // Scrape timeout = interval. A scrape that times out marks the series stale and an evaluation at
    // that moment finds no data; 2 s leaves the workload's API reads room on a busy machine.
    const prometheus = await step(
      options,
      'Prometheus',
      () => startPrometheus({ scrapeTargets: [workload.address], scrapeInterval: '2s' }),
      (p) => `${p.url}, scraping the workload every 2 s`,
    );
    stopper.push('prometheus', () => prometheus.stop());

    const secrets = await mkdtemp(join(tmpdir(), 'rebound-demo-'));
    registerTempDir(secrets);
    stopper.push('demo files', () => removeTempDir(secrets));
    const token = randomBytes(24).toString('hex');
    const tokenFile = join(secrets, 'webhook-token');
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    const webhookPort = await freePort();
    const webhookUrl = `http://127.0.0.1:${String(webhookPort)}`;
    const uiPort = await freePort();
    const uiUrl = `http://127.0.0.1:${String(uiPort)}`;
    const controller = await step(
      options,
      'rebound controller',
      async () =>
        startControllerProcess({
          kubeconfigPath: cluster.controllerKubeconfigPath,
          prometheusUrl: prometheus.url,
          metricsPort: await freePort(),
          args: [
            `--webhook-address=127.0.0.1:${String(webhookPort)}`,
            `--webhook-token-file=${tokenFile}`,
            `--problem-namespace=${DEMO_NAMESPACE}`,
            `--ui-address=127.0.0.1:${String(uiPort)}`,
            ...options.controllerArgs,
          ],
        }),
      (c) =>
        `pid ${String(c.process.pid)}, as the ServiceAccount; webhooks at ${webhookUrl}, metrics at ${c.metricsUrl}/metrics; ` +
        `web UI at ${uiUrl} (sign in with the token of ${cluster.kubeconfigPath})`,
    );
    stopper.push('controller', () => controller.stop());

    const alertmanager = await step(
      options,
      'Alertmanager',
      () => startAlertmanager({ webhookUrl: `${webhookUrl}/v1/alertmanager`, bearerToken: token }),
      (a) => `${a.url}, one receiver: the controller's webhook with a bearer token`,
    );
    stopper.push('alertmanager', () => alertmanager.stop());

    return {
      cluster,
      git,
      repo,
      workload,
      prometheus,
      controller,
      webhookUrl,
      uiUrl,
      alertmanager,
      actions,
      policySource:
        gitops === 'flux'
          ? `Remediation ${DEMO_REMEDIATION}, entries from carts/remediation.yaml`
          : `carts/remediation.yaml on ${DEMO_STAGE}`,
      stop: () => stopper.stop(),
    };
  } catch (err) {
    await stopper.stop();
    throw err;
  }
}

/** carts in production as Argo CD deploys it: the chart on the branch with the values beside it, release name carts. */
function argocdApplication(repoUrl: string): object {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: DEMO_ARGOCD_APPLICATION, namespace: ARGOCD_NAMESPACE },
    spec: {
      project: 'default',
      source: {
        repoURL: repoUrl,
        targetRevision: DEMO_STAGE,
        path: `${DEMO_SERVICE}/chart`,
        helm: { releaseName: DEMO_SERVICE, valueFiles: ['../values.yaml'] },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: `${DEMO_PROJECT}-${DEMO_STAGE}` },
      syncPolicy: { automated: { selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
    },
  };
}

/**
 * Until the engine reports its object synced (its first sync: the pods roll out): `kubectl get` of
 * `resource/name` in `namespace` with `jsonpath`, until `synced` accepts what it prints.
 */
async function waitForEngine(
  kubeconfigPath: string,
  what: string,
  object: { resource: string; name: string; namespace: string; jsonpath: string },
  synced: (printed: string) => boolean,
): Promise<void> {
  let last = '';
  await waitUntil(
    what,
    async () => {
      const { resource, name, namespace, jsonpath } = object;
      last = await kubectl(kubeconfigPath, [
        'get',
        resource,
        name,
        '-n',
        namespace,
        '-o',
        `jsonpath=${jsonpath}`,
      ]).catch((err: unknown) => String(err));
      return synced(last);
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)} (last: ${last})`);
  });
}

/**
 * The sockshop project from examples/sockshop (shipyard, carts' values, remediation.yaml and chart)
 * with the demo's slo.yaml and sli.yaml, seeded on the Git server.
 */
async function createSockshopRepo(
  git: GitServer,
  objectiveMs: number,
  evaluationWait: string,
  gitops: DemoOptions['gitops'],
): Promise<{ repo: { url: string; dir: string }; actions: RemediationAction[]; policy: RemediationPolicy }> {
  const examples = await mkdtemp(join(tmpdir(), 'rebound-demo-project-'));
  registerTempDir(examples);
  try {
    await cp(DEMO_EXAMPLES_DIR, examples, { recursive: true });
    const shipyard = await readFile(join(examples, 'shipyard.yaml'), 'utf8');
    if (!shipyard.includes('triggeredAfter: "2m"'))
      throw new Error(
        'examples/sockshop/shipyard.yaml no longer has the evaluation\'s triggeredAfter: "2m" the demo shortens',
      );
    await writeFile(
      join(examples, 'shipyard.yaml'),
      shipyard.replace('triggeredAfter: "2m"', `triggeredAfter: "${evaluationWait}"`),
    );
    await writeFile(join(examples, DEMO_SERVICE, 'slo.yaml'), sampleSlo(objectiveMs));
    await writeFile(join(examples, DEMO_SERVICE, 'sli.yaml'), SAMPLE_SLI);
    const policy = readPolicy(await readFile(join(examples, DEMO_SERVICE, 'remediation.yaml'), 'utf8'));
    const actions = policyActions(policy);
    if (gitops === 'flux') await renderManifests(join(examples, DEMO_SERVICE));
    const repo = await git.createRepo(DEMO_PROJECT, async (gitDir) => {
      await seedKeptnRepo(gitDir, {
        project: DEMO_PROJECT,
        stages: [...DEMO_STAGES],
        services: [DEMO_SERVICE],
        examplesDir: examples,
      });
    });
    return { repo, actions, policy };
  } finally {
    await removeTempDir(examples);
  }
}

/** examples/sockshop/carts/remediation.yaml, read with the product's parser. */
function readPolicy(remediationYaml: string): RemediationPolicy {
  const parsed = parseRemediationFile('carts/remediation.yaml', remediationYaml);
  if (!parsed.ok)
    throw new Error(
      `examples/sockshop/carts/remediation.yaml is invalid: ${parsed.diagnostics.map((d) => d.message).join('; ')}`,
    );
  return parsed.policy;
}

/** The actions of the policy entry for the demo's problem. */
function policyActions(policy: RemediationPolicy): RemediationAction[] {
  const actions = policy.entries.find((e) => e.problemType === DEMO_PROBLEM_TITLE)?.actions ?? [];
  if (actions.length === 0)
    throw new Error(`examples/sockshop/carts/remediation.yaml has no actions for "${DEMO_PROBLEM_TITLE}"`);
  return actions;
}

/** The Remediation of `--gitops flux`: remediation.yaml's entries, in the rendered manifests. */
export const DEMO_REMEDIATION = `${DEMO_SERVICE}-${DEMO_STAGE}`;

function manifestsRemediation(policy: RemediationPolicy): Remediation {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Remediation',
    metadata: { name: DEMO_REMEDIATION, namespace: DEMO_NAMESPACE },
    spec: {
      project: DEMO_PROJECT,
      stage: DEMO_STAGE,
      service: DEMO_SERVICE,
      remediations: policy.entries.map((e) => ({ problemType: e.problemType, actionsOnOpen: e.actions })),
      values: { file: DEMO_MANIFESTS, replicaCountKey: 'spec.replicas', featureFlagsKey: 'data' },
    },
  };
}

/**
 * carts' chart rendered as `helm template` does (release carts, the values beside it) into
 * manifests/carts.yaml, with the kustomization.yaml that lists it: what a team that lets Flux's
 * kustomize-controller apply plain manifests keeps on its branches.
 */
async function renderManifests(serviceDir: string): Promise<void> {
  const rendered = await runCommand(toolPath('helm'), [
    'template',
    DEMO_SERVICE,
    join(serviceDir, 'chart'),
    '--values',
    join(serviceDir, 'values.yaml'),
  ]);
  await mkdir(join(serviceDir, 'manifests'), { recursive: true });
  await writeFile(
    join(serviceDir, 'manifests', `${DEMO_SERVICE}.yaml`),
    `# carts rendered by \`helm template carts chart --values values.yaml\`, applied by Flux.\n${rendered.stdout}`,
  );
  await writeFile(
    join(serviceDir, 'manifests', 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${DEMO_SERVICE}.yaml\n`,
  );
}

/**
 * The GitRepository that fetches production and the Kustomization that applies carts' manifests to
 * sockshop-production. Flux's own interval is an hour: Rebound's reconcile request makes it act.
 */
function fluxObjects(repoUrl: string, git: GitServer): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sockshop-git', namespace: FLUX_NAMESPACE },
      stringData: { username: git.username, password: git.password },
    },
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: DEMO_FLUX_KUSTOMIZATION, namespace: FLUX_NAMESPACE },
      spec: { url: repoUrl, ref: { branch: DEMO_STAGE }, interval: '1h', secretRef: { name: 'sockshop-git' } },
    },
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: DEMO_FLUX_KUSTOMIZATION, namespace: FLUX_NAMESPACE },
      spec: {
        interval: '1h',
        retryInterval: '2s',
        path: `./${DEMO_SERVICE}/manifests`,
        prune: false,
        targetNamespace: `${DEMO_PROJECT}-${DEMO_STAGE}`,
        sourceRef: { kind: 'GitRepository', name: DEMO_FLUX_KUSTOMIZATION },
      },
    },
  ];
}
