// Helpers for the end-to-end files (the ones that run `rebound controller`): the parts they start and
// stop, the file's namespace with its git Secret, reading objects with kubectl, their conditions,
// waiting for an object to reach a state (a failure shows the last status and the controller's
// output), and a person's push. Not a *.test.ts file, so vitest does not collect it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';
import type { Condition } from '../../src/api/index.ts';
import { startGitServer } from '../harness/git-server.ts';
import type { GitServer } from '../harness/git-server.ts';
import { runCommand } from '../harness/process.ts';
import { startPrometheus } from '../harness/prometheus.ts';
import type { LocalPrometheus, StartPrometheusOptions } from '../harness/prometheus.ts';
import { startSampleWorkload } from '../harness/sample-workload.ts';
import type { SampleWorkload } from '../harness/sample-workload.ts';
import { applyObjects, kubectl } from '../harness/world.ts';

export interface E2eNamespace {
  /** The admin kubeconfig the test reads and writes with. */
  kubeconfigPath: string;
  /** The file's namespace: every object the test reads lives there. */
  namespace: string;
  /** The controller's recent output; a failed wait shows it (the controller may not run yet when this is made). */
  controllerOutput: () => string;
}

/** Function properties, not methods: the tests destructure them. */
export interface NamespaceObjects {
  get: <T>(kind: string, name: string) => Promise<T>;
  /** Polls the object until `check` holds; the failure shows the last status and the controller's output. */
  waitFor: <T extends { status?: unknown }>(
    kind: string,
    name: string,
    check: (obj: T) => boolean,
    timeoutMs?: number,
  ) => Promise<T>;
}

type WithConditions = { status?: { conditions?: Condition[] } };

/** The git server the Projects read, with a fresh password for the Secret from `gitSecret`. */
export function startE2eGitServer(): Promise<GitServer> {
  return startGitServer({ username: 'rebound-bot', password: randomBytes(12).toString('hex') });
}

/** The sample workload (its metrics follow the live Deployments), scraped by Prometheus every second. */
export async function startScrapedWorkload(
  kubeconfigPath: string,
  prometheusOptions: Pick<StartPrometheusOptions, 'dataDir'> = {},
): Promise<{ workload: SampleWorkload; prometheus: LocalPrometheus }> {
  const workload = await startSampleWorkload({ kubeconfigPath });
  try {
    return {
      workload,
      prometheus: await startPrometheus({
        ...prometheusOptions,
        scrapeTargets: [workload.address],
        scrapeInterval: '1s',
      }),
    };
  } catch (err) {
    await workload.stop(); // the caller never gets it to stop
    throw err;
  }
}

/** What a test's ProblemEvent says; the rest is what an alert about the carts service in production would. */
export interface ProblemFields {
  namespace: string;
  name: string;
  project: string;
  stage?: string;
  service?: string;
  problemTitle?: string;
  /** More spec fields (labels, a deployment, ...). */
  extra?: Record<string, unknown>;
}

/** Opens a problem as `kubectl apply` of an OPEN ProblemEvent would. */
export async function openProblem(kubeconfigPath: string, fields: ProblemFields): Promise<void> {
  await applyObjects(kubeconfigPath, [
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'ProblemEvent',
      metadata: { name: fields.name, namespace: fields.namespace },
      spec: {
        project: fields.project,
        stage: fields.stage ?? 'production',
        service: fields.service ?? 'carts',
        problemTitle: fields.problemTitle ?? 'Response time degradation',
        state: 'OPEN',
        source: 'e2e',
        ...fields.extra,
      },
    },
  ]);
}

/** The carts Deployment as the GitOps engines' stage branches hold it; Rebound edits the replicas line. */
export function cartsDeployment(replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: carts
spec:
  replicas: ${String(replicas)} # Rebound edits this line
  selector:
    matchLabels: { app: carts }
  template:
    metadata:
      labels: { app: carts }
    spec:
      containers:
        - name: carts
          image: docker.io/keptnexamples/carts:0.13.1
`;
}

/** For afterAll: stops the parts one after another, in the order given, skipping any that never started. */
export async function stopInOrder(...parts: ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  for (const part of parts) await part?.stop();
}

/** Creates the namespace, then applies the objects the file needs from the start (its Secrets, say). */
export async function createNamespace(
  kubeconfigPath: string,
  namespace: string,
  objects: readonly object[] = [],
): Promise<void> {
  await kubectl(kubeconfigPath, ['create', 'namespace', namespace]);
  if (objects.length > 0) await applyObjects(kubeconfigPath, objects);
}

/** The Secret `git` that a Project's `secretRef` names, with the git server's credentials. */
export function gitSecret(namespace: string, git: Pick<GitServer, 'username' | 'password'>): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'git', namespace },
    stringData: { username: git.username, token: git.password },
  };
}

export function namespaceObjects(ns: E2eNamespace): NamespaceObjects {
  async function get<T>(kind: string, name: string): Promise<T> {
    return parse(await kubectl(ns.kubeconfigPath, ['get', kind, name, '-n', ns.namespace, '-o', 'yaml'])) as T;
  }

  async function waitFor<T extends { status?: unknown }>(
    kind: string,
    name: string,
    check: (obj: T) => boolean,
    timeoutMs = 60_000,
  ): Promise<T> {
    let last: T | undefined;
    await expect
      .poll(
        async () => {
          last = await get<T>(kind, name);
          return check(last);
        },
        { timeout: timeoutMs, interval: 250 },
      )
      .toBe(true)
      .catch((err: unknown) => {
        throw new Error(
          `${kind} ${name}: condition not reached: ${JSON.stringify(last?.status, null, 2)}\ncontroller output:\n${ns.controllerOutput()}`,
          { cause: err },
        );
      });
    return last as T;
  }

  return { get, waitFor };
}

export function condition(obj: WithConditions, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** A `waitFor` check: the condition has this status and reason. */
export const hasCondition =
  (type: string, status: string, reason: string) =>
  (obj: WithConditions): boolean => {
    const c = condition(obj, type);
    return c?.status === status && c.reason === reason;
  };

/** A `waitFor` check: the object is in one of these phases. */
export const phase =
  (...wanted: string[]) =>
  (obj: { status?: { phase?: string } }): boolean =>
    wanted.includes(obj.status?.phase ?? '');

/** A person's push to a branch, straight into the git server's bare repository (a pipeline names its own author). */
export async function push(
  repoDir: string,
  branch: string,
  files: Record<string, string>,
  message: string,
  author: { name: string; email: string } = { name: 'Person', email: 'person@example.com' },
): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'rebound-push-'));
  try {
    await runCommand('git', ['clone', '-q', '--branch', branch, repoDir, work]);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), text);
    }
    await runCommand('git', ['-C', work, 'add', '--', ...Object.keys(files)]);
    await runCommand('git', [
      '-C',
      work,
      '-c',
      `user.name=${author.name}`,
      '-c',
      `user.email=${author.email}`,
      'commit',
      '-q',
      '-m',
      message,
    ]);
    await runCommand('git', ['-C', work, 'push', '-q', 'origin', branch]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** One action for "Response time degradation": scale +1 (passes at the sample workload's 700 ms SLO). */
export const SCALE_POLICY = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: scale
          name: Scale up
          value: "+1"
`;

/** Scale +1, then the promotion flag off. With the sample workload's SLO at 600 ms, scaling (636 ms) fails
 * and the flag (212 ms) passes; at 700 ms, scaling passes. */
export const ESCALATING_POLICY = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: scale
          name: Scale up
          value: "+1"
        - action: featuretoggle
          name: Promotion off
          value: "EnablePromotion:off"
`;
