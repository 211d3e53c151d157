// Builds Git repositories in Keptn's layout for tests, benchmarks and `make demo`: a default branch
// holding shipyard.yaml and one branch per stage holding `<service>/values.yaml`, remediation.yaml,
// slo.yaml, sli.yaml and a small Helm chart. Histories of any length are written with
// `git fast-import` (10,000 commits take about a second), never commit by commit.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGit } from './git-server.ts';
import type { RepoSeed } from './git-server.ts';

export interface KeptnRepoOptions {
  project?: string;
  /** Stage branches, in promotion order. Default: dev, staging, production. */
  stages?: string[];
  /** A count (services named `service-001`...) or names. Default: the example project's services, or `carts`. */
  services?: number | string[];
  /** Commits on each stage branch (at least 1: the one adding the services). Default 1. */
  commits?: number;
  /** Branch holding shipyard.yaml. Default `main`. */
  defaultBranch?: string;
  /** Example project to copy files from where it has them. Default: `examples/<project>` of this checkout; `null` for none. */
  examplesDir?: string | null;
}

export interface KeptnRepoLayout {
  project: string;
  defaultBranch: string;
  stages: string[];
  services: string[];
  /** Commit SHA at the tip of each branch. */
  heads: Record<string, string>;
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEED_TIME = 1_767_225_600; // 2026-01-01T00:00:00Z: deterministic commit ids across runs

/** A seed for `GitServer.createRepo`. */
export function keptnSeed(options: KeptnRepoOptions = {}): RepoSeed {
  return async (gitDir) => {
    await seedKeptnRepo(gitDir, options);
  };
}

/** Writes a Keptn-layout history into an existing (bare or non-bare) repository's object store. */
export async function seedKeptnRepo(gitDir: string, options: KeptnRepoOptions = {}): Promise<KeptnRepoLayout> {
  const project = options.project ?? 'sockshop';
  const defaultBranch = options.defaultBranch ?? 'main';
  const stages = options.stages ?? ['dev', 'staging', 'production'];
  const commits = Math.max(1, options.commits ?? 1);
  const examplesDir =
    options.examplesDir === null ? undefined : (options.examplesDir ?? join(REPO_ROOT, 'examples', project));
  const examples = examplesDir !== undefined && existsSync(examplesDir) ? await loadExamples(examplesDir) : undefined;
  const services = serviceNames(options.services, examples);

  const stream = new FastImport();
  const shipyard = examples?.shipyard ?? defaultShipyard(project, stages);
  const rootMark = stream.commit(`refs/heads/${defaultBranch}`, 'Initial project: shipyard.yaml', undefined, [
    ['shipyard.yaml', shipyard],
  ]);
  for (const stage of stages) {
    const files: [string, string][] = [];
    for (const service of services) {
      for (const [path, text] of serviceFiles(service, stage, examples)) files.push([`${service}/${path}`, text]);
    }
    let parent = stream.commit(`refs/heads/${stage}`, `Add services to stage ${stage}`, rootMark, files);
    // The rest of the history: ordinary one-line value changes, round robin over the services.
    for (let i = 1; i < commits; i += 1) {
      const service = services[i % services.length] ?? services[0] ?? 'carts';
      const replicas = 1 + (i % 3);
      const text = valuesYaml(service, stage, replicas, examples?.values.get(service));
      parent = stream.commit(
        `refs/heads/${stage}`,
        `Set ${service} replicaCount to ${replicas} (change ${i})`,
        parent,
        [[`${service}/values.yaml`, text]],
      );
    }
  }
  await runGit(['fast-import', '--quiet', '--force', '--done'], { env: { GIT_DIR: gitDir }, input: stream.finish() });
  await runGit(['symbolic-ref', 'HEAD', `refs/heads/${defaultBranch}`], { env: { GIT_DIR: gitDir } });
  const heads: Record<string, string> = {};
  for (const branch of [defaultBranch, ...stages]) {
    heads[branch] = (await runGit(['rev-parse', `refs/heads/${branch}`], { env: { GIT_DIR: gitDir } })).trim();
  }
  return { project, defaultBranch, stages, services, heads };
}

/** Writes a fast-import stream: whole file contents inline, marks for parents. */
class FastImport {
  private readonly parts: Buffer[] = [];
  private nextMark = 1;
  private tick = 0;

  commit(ref: string, message: string, parent: number | undefined, files: [string, string][]): number {
    const mark = this.nextMark++;
    const when = `${SEED_TIME + this.tick++} +0000`;
    const msg = Buffer.from(`${message}\n`);
    this.push(`commit ${ref}\nmark :${mark}\n`);
    this.push(
      `author Keptn Seeder <seeder@keptn.invalid> ${when}\ncommitter Keptn Seeder <seeder@keptn.invalid> ${when}\n`,
    );
    this.push(`data ${msg.length}\n`);
    this.parts.push(msg);
    if (parent !== undefined) this.push(`from :${parent}\n`);
    for (const [path, text] of files) {
      const body = Buffer.from(text);
      this.push(`M 100644 inline ${path}\ndata ${body.length}\n`);
      this.parts.push(body);
      this.push('\n');
    }
    this.push('\n');
    return mark;
  }

  finish(): Buffer {
    this.push('done\n');
    return Buffer.concat(this.parts);
  }

  private push(text: string): void {
    this.parts.push(Buffer.from(text));
  }
}

interface Examples {
  shipyard?: string;
  /** Per service: path inside the service directory → text. */
  services: Map<string, Map<string, string>>;
  values: Map<string, string>;
  /** Project-level files used for every service lacking its own (remediation.yaml, slo.yaml, sli.yaml). */
  shared: Map<string, string>;
  /** The first chart found, used for services without one. */
  chart?: Map<string, string>;
}

async function loadExamples(dir: string): Promise<Examples> {
  const examples: Examples = { services: new Map(), values: new Map(), shared: new Map() };
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name === 'shipyard.yaml') examples.shipyard = await readFile(path, 'utf8');
    else if (entry.isFile() && ['remediation.yaml', 'slo.yaml', 'sli.yaml'].includes(entry.name)) {
      examples.shared.set(entry.name, await readFile(path, 'utf8'));
    } else if (entry.isDirectory() && existsSync(join(path, 'values.yaml'))) {
      const files = new Map<string, string>();
      for (const file of await listFiles(path)) {
        files.set(relative(path, file).split(sep).join('/'), await readFile(file, 'utf8'));
      }
      examples.services.set(entry.name, files);
      examples.values.set(entry.name, files.get('values.yaml') ?? '');
      const chart = new Map([...files].filter(([p]) => p.startsWith('chart/')));
      if (chart.size > 0 && examples.chart === undefined) examples.chart = chart;
    }
  }
  return examples;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if ((await stat(path)).isFile()) out.push(path);
  }
  return out.sort();
}

function serviceNames(services: KeptnRepoOptions['services'], examples: Examples | undefined): string[] {
  if (Array.isArray(services)) return services;
  if (typeof services === 'number') {
    const width = Math.max(3, String(services).length);
    return Array.from({ length: services }, (_, i) => `service-${String(i + 1).padStart(width, '0')}`);
  }
  const fromExamples = examples === undefined ? [] : [...examples.services.keys()].sort();
  return fromExamples.length > 0 ? fromExamples : ['carts'];
}

function serviceFiles(service: string, stage: string, examples: Examples | undefined): [string, string][] {
  const own = examples?.services.get(service);
  const files = new Map<string, string>(own ?? []);
  const fallback = (name: string, make: () => string): void => {
    if (!files.has(name)) files.set(name, examples?.shared.get(name) ?? make());
  };
  if (!files.has('values.yaml')) files.set('values.yaml', valuesYaml(service, stage, 1, undefined));
  fallback('remediation.yaml', () => remediationYaml());
  fallback('slo.yaml', () => sloYaml());
  fallback('sli.yaml', () => sliYaml());
  if (![...files.keys()].some((p) => p.startsWith('chart/'))) {
    for (const [path, text] of examples?.chart ?? defaultChart()) files.set(path, text);
  }
  return [...files].sort(([a], [b]) => a.localeCompare(b));
}

function valuesYaml(service: string, stage: string, replicas: number, example: string | undefined): string {
  if (example !== undefined && /^replicaCount:\s*\S+/m.test(example)) {
    return example.replace(/^replicaCount:[ \t]*[^\s#]+/m, `replicaCount: ${replicas}`);
  }
  return `# Helm values for ${service} in ${stage}: Rebound edits replicaCount and featureFlags in place.
replicaCount: ${replicas}

image:
  repository: docker.io/keptnexamples/${service}
  tag: "0.13.1"

# Feature flags read by the service at start-up.
featureFlags:
  EnablePromotion: true   # the promotion campaign banner
  EnableRecommendations: false

resources:
  requests:
    cpu: 100m
    memory: 128Mi
`;
}

function defaultShipyard(project: string, stages: string[]): string {
  const lines = [
    'apiVersion: "spec.keptn.sh/0.2.2"',
    'kind: "Shipyard"',
    'metadata:',
    `  name: "shipyard-${project}"`,
    'spec:',
    '  stages:',
  ];
  stages.forEach((stage, index) => {
    lines.push(`    - name: "${stage}"`, '      sequences:');
    if (index === stages.length - 1) {
      lines.push(
        '        - name: "remediation"',
        '          triggeredOn:',
        `            - event: "${stage}.remediation.finished"`,
        '              selector:',
        '                match:',
        '                  evaluation.result: "fail"',
        '          tasks:',
        '            - name: "get-action"',
        '            - name: "action"',
        '            - name: "evaluation"',
        '              triggeredAfter: "2m"',
        '              properties:',
        '                timeframe: "2m"',
      );
    } else {
      lines.push(
        '        - name: "delivery"',
        '          tasks:',
        '            - name: "deployment"',
        '            - name: "evaluation"',
      );
    }
  });
  return `${lines.join('\n')}\n`;
}

function remediationYaml(): string {
  return `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: service-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: scale
          name: Scale up
          description: Add a replica
          value: "+1"
        - action: scale
          name: Scale up more
          description: Add two more replicas
          value: "+2"
    - problemType: Failure rate increase
      actionsOnOpen:
        - action: featuretoggle
          name: Disable the promotion
          description: Turn the promotion campaign off
          value: "EnablePromotion:off"
`;
}

function sloYaml(): string {
  return `---
spec_version: "1.0"
comparison:
  aggregate_function: "avg"
  compare_with: "single_result"
  include_result_with_score: "pass"
  number_of_comparison_results: 1
filter:
objectives:
  - sli: "response_time_p95"
    displayName: "Response time P95"
    pass:
      - criteria:
          - "<600"
    warning:
      - criteria:
          - "<=800"
    weight: 1
  - sli: "error_rate"
    pass:
      - criteria:
          - "<=1"
total_score:
  pass: "90%"
  warning: "75%"
`;
}

function sliYaml(): string {
  return `---
spec_version: "1.0"
indicators:
  response_time_p95: histogram_quantile(0.95, sum(rate(http_response_time_milliseconds_bucket{job="$SERVICE-$PROJECT-$STAGE"}[$DURATION_SECONDS])) by (le))
  error_rate: sum(rate(http_requests_total{job="$SERVICE-$PROJECT-$STAGE",status!~"2.."}[$DURATION_SECONDS])) / sum(rate(http_requests_total{job="$SERVICE-$PROJECT-$STAGE"}[$DURATION_SECONDS])) * 100
`;
}

function defaultChart(): Map<string, string> {
  return new Map([
    [
      'chart/Chart.yaml',
      `apiVersion: v2
name: service
description: A minimal chart whose replica count and feature flags come from values.yaml
type: application
version: 0.1.0
appVersion: "0.13.1"
`,
    ],
    [
      'chart/templates/deployment.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount | default 1 }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Release.Name }}
    spec:
      containers:
        - name: app
          image: "{{ (.Values.image).repository | default "registry.invalid/app" }}:{{ (.Values.image).tag | default "latest" }}"
          env:
            {{- range $flag, $on := .Values.featureFlags }}
            - name: FEATURE_{{ $flag | upper }}
              value: {{ $on | quote }}
            {{- end }}
`,
    ],
  ]);
}
