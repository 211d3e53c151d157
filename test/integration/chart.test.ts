// charts/rebound next to manifests/: lint-clean, its rendered objects accepted by a real API server
// (server-side dry run, admission included), installed with helm, and granting its ServiceAccount
// exactly what `kubectl apply -k manifests/` grants its own (SubjectAccessReviews over one list, and
// `kubectl auth can-i --list` in each namespace). A cluster of its own: other files bind extra roles
// in the shared one.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { startCluster } from '../harness/cluster.ts';
import type { LocalCluster } from '../harness/cluster.ts';
import { runCommand } from '../harness/process.ts';
import { toolPath } from '../harness/tools.ts';
import { REPO_ROOT, kubectl } from '../harness/world.ts';
import { IMAGE_NODE_OPTIONS, POD_MEMORY_LIMIT_MIB } from '../bench/controller-process.ts';

const CHART = join(REPO_ROOT, 'charts', 'rebound');
const KUSTOMIZE_NS = 'rebound-system';
const CHART_NS = 'rebound-chart';
const RELEASE = 'chart';
const STAGE_NS = 'sockshop-production';
const SA = 'rebound-controller';
/** Every value the chart turns into a flag, mount or object, so lint and the dry run see them all. */
const ALL_VALUES = [
  '--set',
  'ingest.gitWebhookSecret.name=git-hook,ingest.actionSink.url=http://executor.example:8080,ingest.actionSink.tokenSecret.name=sink,ingest.problemNamespace=problems,watchNamespace=sockshop,extraArgs[0]=--log-format=pretty',
  '--set',
  'tracing.otlpEndpoint=http://jaeger-collector.tracing:4318,tracing.serviceName=rebound-eu,tracing.headersSecret.name=otlp',
];

let cluster: LocalCluster;

function helm(args: readonly string[]): Promise<string> {
  return runCommand(toolPath('helm'), [...args, '--kubeconfig', cluster.kubeconfigPath], { timeoutMs: 120_000 }).then(
    (r) => r.stdout,
  );
}

beforeAll(async () => {
  cluster = await startCluster();
  await kubectl(cluster.kubeconfigPath, ['create', 'namespace', CHART_NS]);
  await kubectl(cluster.kubeconfigPath, [
    '-n',
    CHART_NS,
    'create',
    'secret',
    'generic',
    'rebound-webhook-token',
    '--from-literal=token=t0ken',
  ]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('charts/rebound', () => {
  it('is lint-clean with its defaults and with every value set, and versioned like the package', async () => {
    for (const values of [[], ALL_VALUES]) {
      const out = await runCommand(toolPath('helm'), ['lint', '--strict', CHART, ...values]);
      expect(out.stdout).toContain('0 chart(s) failed');
      expect(out.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
    const chart = parse(await readFile(join(CHART, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart).toMatchObject({ version: pkg.version, appVersion: pkg.version });
  });

  it('renders objects the API server accepts, CRDs and the restricted Pod Security level included', async () => {
    const rendered = await helm(['template', RELEASE, CHART, '--namespace', CHART_NS, '--include-crds', ...ALL_VALUES]);
    const kinds = parseAllDocuments(rendered)
      .map((d) => (d.toJS() as { kind?: string } | null)?.kind)
      .filter(Boolean);
    expect(new Set(kinds)).toEqual(
      new Set([
        'CustomResourceDefinition',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'Service',
        'Deployment',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ]),
    );
    const created = await kubectl(
      cluster.kubeconfigPath,
      ['apply', '--dry-run=server', '-f', '-', '-o', 'name'],
      rendered,
    );
    expect(created.split('\n').filter(Boolean)).toHaveLength(kinds.length);
    // The pod template under the namespace's restricted level (manifests/namespace.yaml labels it so).
    const deployment = parseAllDocuments(rendered)
      .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: object } } })
      .find((o) => o.kind === 'Deployment');
    // Tracing's values become the flag and OpenTelemetry's variables, the headers from the Secret.
    const container = (
      deployment as { spec?: { template: { spec: { containers: { args: string[]; env: object[] }[] } } } }
    ).spec?.template.spec.containers[0];
    expect(container?.args).toContain('--otlp-endpoint=http://jaeger-collector.tracing:4318');
    const values = parse(await readFile(join(REPO_ROOT, 'charts', 'rebound', 'values.yaml'), 'utf8')) as {
      resources?: { limits?: { memory?: string } };
    };
    expect(values.resources?.limits?.memory).toBe(`${String(POD_MEMORY_LIMIT_MIB)}Mi`);
    expect(container?.env).toEqual(
      expect.arrayContaining([
        // The heap is a share of the memory limit, as in the image and manifests/.
        { name: 'NODE_OPTIONS', value: IMAGE_NODE_OPTIONS },
        { name: 'OTEL_SERVICE_NAME', value: 'rebound-eu' },
        { name: 'OTEL_EXPORTER_OTLP_HEADERS', valueFrom: { secretKeyRef: { name: 'otlp', key: 'headers' } } },
      ]),
    );
    await kubectl(cluster.kubeconfigPath, [
      'label',
      'namespace',
      CHART_NS,
      'pod-security.kubernetes.io/enforce=restricted',
      '--overwrite',
    ]);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pss-check', namespace: CHART_NS },
      spec: deployment?.spec?.template.spec,
    };
    expect(
      await kubectl(
        cluster.kubeconfigPath,
        ['create', '--dry-run=server', '-o', 'name', '-f', '-'],
        JSON.stringify(pod),
      ),
    ).toContain('pod/pss-check');
  });

  it('installs with helm: CRDs, ServiceAccount, RBAC, Deployment and Service', async () => {
    await helm(['install', RELEASE, CHART, '--namespace', CHART_NS, '--wait=false']);
    const names = async (args: string[]): Promise<string[]> =>
      (await kubectl(cluster.kubeconfigPath, ['get', ...args, '-o', 'name'])).split('\n').filter(Boolean).sort();
    expect(await names(['crd'])).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/approvals.rebound.dev',
      'customresourcedefinition.apiextensions.k8s.io/notifications.rebound.dev',
      'customresourcedefinition.apiextensions.k8s.io/problemevents.rebound.dev',
      'customresourcedefinition.apiextensions.k8s.io/projects.rebound.dev',
      'customresourcedefinition.apiextensions.k8s.io/remediations.rebound.dev',
    ]);
    expect(
      await names(['deployment,service,serviceaccount', '-n', CHART_NS, '-l', 'app.kubernetes.io/instance=chart']),
    ).toEqual(['deployment.apps/chart-rebound-controller', 'service/chart-rebound', `serviceaccount/${SA}`]);
    const status = await helm(['status', RELEASE, '--namespace', CHART_NS, '-o', 'json']);
    expect((JSON.parse(status) as { info: { status: string } }).info.status).toBe('deployed');
  });

  it('grants its ServiceAccount exactly what manifests/ grants its own', async () => {
    await kubectl(cluster.kubeconfigPath, [
      'apply',
      '--server-side',
      '--force-conflicts',
      '-k',
      join(REPO_ROOT, 'manifests'),
    ]);
    // Each install's helm-applier role bound in one stage namespace, as an operator does.
    await kubectl(cluster.kubeconfigPath, ['create', 'namespace', STAGE_NS]);
    await kubectl(cluster.kubeconfigPath, [
      '-n',
      STAGE_NS,
      'create',
      'rolebinding',
      'kustomize-helm-applier',
      '--clusterrole=rebound-helm-applier',
      `--serviceaccount=${KUSTOMIZE_NS}:${SA}`,
    ]);
    await kubectl(cluster.kubeconfigPath, [
      '-n',
      STAGE_NS,
      'create',
      'rolebinding',
      'chart-helm-applier',
      `--clusterrole=${RELEASE}-rebound-helm-applier`,
      `--serviceaccount=${CHART_NS}:${SA}`,
    ]);

    // The list: every verb on every resource of every rule in manifests/, in the controller's own
    // namespace, a stage namespace and (for reads) cluster-wide, and what it must never do.
    const rendered = await kubectl(cluster.kubeconfigPath, ['kustomize', join(REPO_ROOT, 'manifests')]);
    type Rule = { apiGroups?: string[]; resources?: string[]; verbs?: string[] };
    const rules = parseAllDocuments(rendered)
      .map((d) => d.toJS() as { kind?: string; rules?: Rule[] })
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .flatMap((o) => o.rules ?? []);
    expect(rules.length).toBeGreaterThan(3);
    // A check: verb, group, resource[/subresource], and a namespace ('{self}': the ServiceAccount's;
    // '': cluster-wide), tab-separated so a Set keeps each once.
    const checks = new Set<string>();
    for (const rule of rules) {
      for (const group of rule.apiGroups ?? ['']) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs ?? []) {
            // Other namespaces are covered by `--list` below; cluster-wide only where it can matter.
            const scopes = ['{self}', STAGE_NS, ...(['get', 'list', 'watch'].includes(verb) ? [''] : [])];
            for (const scope of scopes) checks.add([verb, group, resource, scope].join('\t'));
          }
        }
      }
    }
    for (const never of [
      ['delete', '', 'secrets', '{self}'],
      ['create', '', 'pods', 'default'],
      ['create', 'rbac.authorization.k8s.io', 'clusterrolebindings', ''],
      ['impersonate', '', 'serviceaccounts', '{self}'],
      ['*', '*', '*', ''],
    ])
      checks.add(never.join('\t'));
    const list = [...checks].sort();

    // The API server's own answer for the ServiceAccount (a SubjectAccessReview, what `kubectl auth
    // can-i --as` asks for), with the groups a ServiceAccount's token carries.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const authorization = kubeConfig.makeApiClient(AuthorizationV1Api);
    const can = async (saNamespace: string, check: string): Promise<boolean> => {
      const [verb = '', group = '', resource = '', scope = ''] = check.split('\t');
      const [name = '', subresource] = resource.split('/');
      const namespace = scope.replace('{self}', saNamespace);
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${saNamespace}:${SA}`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${saNamespace}`, 'system:authenticated'],
            resourceAttributes: {
              verb,
              group,
              resource: name,
              ...(subresource ? { subresource } : {}),
              ...(namespace ? { namespace } : {}),
            },
          },
        },
      });
      if (review.status?.evaluationError) throw new Error(`${check}: ${review.status.evaluationError}`);
      return review.status?.allowed === true;
    };
    const answers = async (namespace: string): Promise<Record<string, boolean>> => {
      const values = await Promise.all(list.map((check) => can(namespace, check)));
      return Object.fromEntries(list.map((check, i) => [check, values[i] ?? false]));
    };
    const kustomize = await answers(KUSTOMIZE_NS);
    expect(await answers(CHART_NS)).toEqual(kustomize);
    // The comparison means something: both grant and both refuse.
    expect(Object.values(kustomize)).toContain(true);
    expect(Object.values(kustomize)).toContain(false);

    // And in full, namespace by namespace: the rules each ServiceAccount has.
    const listed = async (saNamespace: string, namespace: string): Promise<string> =>
      (
        await kubectl(cluster.kubeconfigPath, [
          'auth',
          'can-i',
          '--list',
          '-n',
          namespace,
          `--as=system:serviceaccount:${saNamespace}:${SA}`,
        ])
      ).replaceAll(saNamespace, '{self}');
    for (const ns of [STAGE_NS, 'default']) expect(await listed(CHART_NS, ns), ns).toBe(await listed(KUSTOMIZE_NS, ns));
    expect(await listed(CHART_NS, CHART_NS)).toBe(await listed(KUSTOMIZE_NS, KUSTOMIZE_NS));
  }, 180_000);
});
