// Where the real parts live. kube-apiserver, kubectl, etcd, helm, kube-controller-manager,
// kube-scheduler, KWOK, Flux's source-controller and kustomize-controller, Gitea, Jaeger and Argo CD
// are built from pinned Go modules by
// `make setup` (test/cluster/build.sh) into $REBOUND_TOOLS_DIR, default ~/.cache/rebound/bin.
// Prometheus, promtool, Alertmanager and openssl come from Debian packages, also installed by
// `make setup`, and are found on PATH.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReboundError } from '../../src/errors.ts';

export const BUILT_TOOLS = ['kube-apiserver', 'kubectl', 'etcd', 'helm'] as const;
/** Flux's controllers, built by the same script (the GitOps engine for `apply: flux`). */
export const FLUX_TOOLS = ['source-controller', 'kustomize-controller'] as const;
/** Gitea, the real forge (commit statuses, pull requests), with its templates in TOOLS_DIR/gitea-static. */
export const FORGE_TOOLS = ['gitea'] as const;
/** Jaeger, the trace backend of the tracing tests, built by the same script. */
export const TRACE_TOOLS = ['jaeger'] as const;
/** Argo CD's application-controller and repo-server in one binary, built by the same script (`apply: argocd`). */
export const ARGOCD_TOOLS = ['argocd'] as const;
/** Workloads that roll out: Deployments get ReplicaSets and Pods, Pods get simulated nodes (KWOK). */
export const WORKLOAD_TOOLS = ['kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type BuiltTool =
  | (typeof BUILT_TOOLS)[number]
  | (typeof FLUX_TOOLS)[number]
  | (typeof FORGE_TOOLS)[number]
  | (typeof TRACE_TOOLS)[number]
  | (typeof ARGOCD_TOOLS)[number]
  | (typeof WORKLOAD_TOOLS)[number];

export const SYSTEM_TOOLS = ['prometheus', 'promtool', 'prometheus-alertmanager', 'openssl', 'git'] as const;
/** Debian's redis-server: Argo CD's cache (only the Argo CD tests need it). */
export const ARGOCD_SYSTEM_TOOLS = ['redis-server'] as const;
export type SystemTool = (typeof SYSTEM_TOOLS)[number] | (typeof ARGOCD_SYSTEM_TOOLS)[number];

export type ToolName = BuiltTool | SystemTool;

export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['REBOUND_TOOLS_DIR'];
  return configured !== undefined && configured !== '' ? configured : join(homedir(), '.cache', 'rebound', 'bin');
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isBuiltTool(name: ToolName): name is BuiltTool {
  return (
    [
      ...BUILT_TOOLS,
      ...FLUX_TOOLS,
      ...FORGE_TOOLS,
      ...TRACE_TOOLS,
      ...ARGOCD_TOOLS,
      ...WORKLOAD_TOOLS,
    ] as readonly string[]
  ).includes(name);
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  // /usr/bin last: Debian's packages put these there even when PATH was trimmed.
  const dirs = [...(env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''), '/usr/bin'];
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}

/** The absolute path of an executable tool, or a ToolMissing error that says how to get it. */
export function toolPath(name: ToolName, env: NodeJS.ProcessEnv = process.env): string {
  if (isBuiltTool(name)) {
    const path = join(toolsDir(env), name);
    if (isExecutable(path)) return path;
    throw new ReboundError(
      `${name} is not built: ${path} is missing or not executable. Run \`make setup\` (it builds ` +
        `kube-apiserver, kubectl, etcd, helm, kube-controller-manager, kube-scheduler, kwok, Flux's controllers, Gitea, Jaeger and Argo CD from Go modules; REBOUND_TOOLS_DIR selects another directory).`,
      { code: 'ToolMissing', retryable: false },
    );
  }
  const path = findOnPath(name, env);
  if (path !== undefined) return path;
  throw new ReboundError(
    `${name} is not installed (not found on PATH). Run \`make setup\` (it installs Debian's git, openssl, ` +
      `prometheus and prometheus-alertmanager).`,
    { code: 'ToolMissing', retryable: false },
  );
}

/** The tools of `names` that are not there (empty when all are). */
export function missingTools(names: readonly ToolName[], env: NodeJS.ProcessEnv = process.env): ToolName[] {
  return names.filter((name) => {
    try {
      toolPath(name, env);
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * locust (PyPI), the load generator of the seed-001 test, from the venv `make locust` builds:
 * $REBOUND_LOCUST, else the cache's venv for the version the Makefile pins.
 */
export function locustPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['REBOUND_LOCUST'];
  if (configured !== undefined && configured !== '') return configured;
  const pinned = /^LOCUST_VERSION := (\S+)$/m.exec(
    readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'Makefile'), 'utf8'),
  )?.[1];
  const cache = env['REBOUND_CACHE_DIR'] || join(homedir(), '.cache', 'rebound');
  const path = join(cache, `locust-${pinned ?? 'unknown'}`, 'bin', 'locust');
  if (isExecutable(path)) return path;
  throw new ReboundError(`locust is not installed: ${path} is missing. Run \`make locust\` (or \`make setup\`).`, {
    code: 'ToolMissing',
    retryable: false,
  });
}
