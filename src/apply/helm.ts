// The `helm` applier: `helm upgrade --install` of the service's release from the chart and values
// committed to the stage branch. Helm runs as a child process with an argument list, never a shell.
import { ReboundError } from '../errors.ts';
import { lastLines, runProcess } from './run-process.ts';
import type { ProcessResult } from './run-process.ts';
import type { Applier, ApplyRequest, ApplyResult } from './types.ts';

export interface HelmApplierOptions {
  /** Path of the helm binary (default: `helm` on PATH). */
  helmPath?: string;
  /** A kubeconfig for helm; without it helm uses the in-cluster configuration. */
  kubeconfigPath?: string;
  /** Writable directory for helm's cache, config and data (the image's root is read-only). */
  homeDir: string;
  /** How long helm may take, passed as `--timeout` and enforced on the process. */
  timeoutSeconds?: number;
  /** Release name from the service name; Keptn users may have `<service>-generated` etc. */
  releaseName?: (request: ApplyRequest) => string;
}

const STDERR_LINES_IN_CONDITION = 5;
// Failures that say nothing about the chart: the next try may well succeed.
const TRANSIENT = /connection refused|i\/o timeout|timed out|TLS handshake|EOF|too many requests|service unavailable|another operation \(install\/upgrade\/rollback\) is in progress/i;

export class HelmApplier implements Applier {
  readonly name = 'helm';
  private readonly options: HelmApplierOptions;

  constructor(options: HelmApplierOptions) {
    this.options = options;
  }

  async apply(request: ApplyRequest, signal?: AbortSignal): Promise<ApplyResult> {
    const { chartDir, valuesFile } = request;
    if (!chartDir || !valuesFile) {
      throw new ReboundError(`no chart for ${request.service} in ${request.branch}: the helm applier needs <service>/chart and <service>/values.yaml`, {
        code: 'HelmChartMissing',
        reason: 'ApplyFailed',
        retryable: false,
      });
    }
    const release = this.options.releaseName?.(request) ?? request.service;
    const timeoutSeconds = this.options.timeoutSeconds ?? 120;
    const args = helmUpgradeArgs({ release, chartDir, valuesFile, namespace: request.namespace, timeoutSeconds, kubeconfigPath: this.options.kubeconfigPath });
    const home = this.options.homeDir;
    let result: ProcessResult;
    try {
      result = await runProcess(this.options.helmPath ?? 'helm', args, {
        timeoutMs: (timeoutSeconds + 15) * 1000,
        signal,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          HELM_CACHE_HOME: `${home}/cache`,
          HELM_CONFIG_HOME: `${home}/config`,
          HELM_DATA_HOME: `${home}/data`,
          // In-cluster configuration comes from these when there is no kubeconfig.
          KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST,
          KUBERNETES_SERVICE_PORT: process.env.KUBERNETES_SERVICE_PORT,
        },
      });
    } catch (err) {
      throw new ReboundError(`cannot run helm: ${err instanceof Error ? err.message : String(err)}`, {
        code: 'HelmNotRunnable',
        reason: 'ApplyFailed',
        retryable: false,
        cause: err,
      });
    }
    if (result.timedOut) {
      throw new ReboundError(`helm upgrade of ${release} in ${request.namespace} did not finish within ${timeoutSeconds}s`, {
        code: 'HelmTimeout',
        reason: 'ApplyFailed',
        retryable: true,
      });
    }
    if (result.code !== 0) {
      const tail = lastLines(result.stderr, STDERR_LINES_IN_CONDITION) || `exit code ${String(result.code)}`;
      throw new ReboundError(`helm upgrade of ${release} in ${request.namespace} failed: ${tail}`, {
        code: 'HelmUpgradeFailed',
        reason: 'ApplyFailed',
        retryable: TRANSIENT.test(result.stderr),
      });
    }
    const revision = parseRevision(result.stdout);
    return {
      applier: 'helm',
      ...(revision === undefined ? {} : { helmRevision: revision }),
      detail: `helm release ${release} in ${request.namespace} at revision ${revision ?? 'unknown'}`,
    };
  }
}

export interface HelmUpgradeArgs {
  release: string;
  chartDir: string;
  valuesFile: string;
  namespace: string;
  timeoutSeconds: number;
  kubeconfigPath?: string | undefined;
}

export function helmUpgradeArgs(a: HelmUpgradeArgs): string[] {
  const args = [
    'upgrade', a.release, a.chartDir,
    '--install',
    '--namespace', a.namespace,
    '--create-namespace',
    '--values', a.valuesFile,
    '--timeout', `${a.timeoutSeconds}s`,
    '--output', 'json',
  ];
  if (a.kubeconfigPath) args.push('--kubeconfig', a.kubeconfigPath);
  return args;
}

/** The release revision from `helm upgrade --output json` (`{"version": N, ...}`). */
export function parseRevision(stdout: string): number | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(stdout.slice(start));
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'number') {
      return parsed.version;
    }
  } catch {
    // Helm printed something else after the JSON; the revision is only informational.
  }
  return undefined;
}
