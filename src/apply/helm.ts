// The `helm` applier: `helm upgrade --install` of the service's release from the chart and values
// committed to the stage branch. Helm runs as a child process with an argument list, never a shell.
import { ReboundError } from '../errors.ts';
import {
  REVISION_LABEL,
  isPending,
  parseHistory,
  parseMetadata,
  pendingAdvice,
  recoveryFor,
  startedByRebound,
} from './helm-release.ts';
import type { HistoryEntry, ReleaseMetadata } from './helm-release.ts';
import { lastLines, runProcess } from './run-process.ts';
import type { ProcessResult } from './run-process.ts';
import { Slots } from '../runtime/slots.ts';
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
  log?: { warn(fields: object, message: string): void };
  /**
   * Helm processes at once, whatever the number of workers: each holds tens of MB (in the pod's
   * memory limit) and a CPU while it renders and waits. Default 4.
   */
  maxProcesses?: number;
}

const STDERR_LINES_IN_CONDITION = 5;
const QUERY_TIMEOUT_MS = 30_000;
// Failures that say nothing about the chart: the next try may well succeed.
const TRANSIENT = /connection refused|i\/o timeout|timed out|TLS handshake|EOF|too many requests|service unavailable/i;
// A release left pending: retrying cannot help until it is recovered (see helm-release.ts).
const ANOTHER_OPERATION = /another operation \(install\/upgrade\/rollback\) is in progress/i;

export class HelmApplier implements Applier {
  readonly name = 'helm';
  private readonly options: HelmApplierOptions;
  private readonly processes: Slots;

  constructor(options: HelmApplierOptions) {
    this.options = options;
    this.processes = new Slots(options.maxProcesses ?? 4);
  }

  async apply(request: ApplyRequest, signal?: AbortSignal): Promise<ApplyResult> {
    const { chartDir, valuesFile } = request;
    if (!chartDir || !valuesFile) {
      throw new ReboundError(
        `no chart for ${request.service} in ${request.branch}: the helm applier needs <service>/chart and <service>/values.yaml`,
        {
          code: 'HelmChartMissing',
          reason: 'ApplyFailed',
          retryable: false,
        },
      );
    }
    const release = this.options.releaseName?.(request) ?? request.service;
    const { namespace } = request;
    const timeoutSeconds = this.options.timeoutSeconds ?? 120;
    let current = await this.metadata(release, namespace, signal);
    if (current !== undefined && isPending(current.status)) {
      await this.recover(release, namespace, current, signal);
      current = await this.metadata(release, namespace, signal);
    }
    const expected = (current?.revision ?? 0) + 1;
    const args = [
      ...helmUpgradeArgs({
        release,
        chartDir,
        valuesFile,
        namespace,
        timeoutSeconds,
        kubeconfigPath: this.options.kubeconfigPath,
      }),
      '--labels',
      `${REVISION_LABEL}=${expected}`,
    ];
    const result = await this.run(args, (timeoutSeconds + 15) * 1000, signal);
    if (result.timedOut) {
      throw new ReboundError(`helm upgrade of ${release} in ${namespace} did not finish within ${timeoutSeconds}s`, {
        code: 'HelmTimeout',
        reason: 'ApplyFailed',
        retryable: true,
      });
    }
    if (result.code !== 0) {
      const tail = lastLines(result.stderr, STDERR_LINES_IN_CONDITION) || `exit code ${String(result.code)}`;
      if (ANOTHER_OPERATION.test(result.stderr)) {
        // Someone started an operation between our check and our upgrade: theirs to finish.
        const pending = await this.metadata(release, namespace, signal);
        const history = await this.history(release, namespace, signal);
        throw new ReboundError(
          pending && isPending(pending.status)
            ? pendingAdvice(release, namespace, pending, history)
            : `helm upgrade of ${release} in ${namespace} failed: ${tail}`,
          {
            code: 'HelmReleasePending',
            reason: 'ApplyFailed',
            retryable: false,
          },
        );
      }
      throw new ReboundError(`helm upgrade of ${release} in ${namespace} failed: ${tail}`, {
        code: 'HelmUpgradeFailed',
        reason: 'ApplyFailed',
        retryable: TRANSIENT.test(result.stderr),
      });
    }
    const revision = parseRevision(result.stdout);
    return {
      applier: 'helm',
      rollout: true,
      ...(revision === undefined ? {} : { helmRevision: revision }),
      detail: `helm release ${release} in ${namespace} at revision ${revision ?? 'unknown'}`,
    };
  }

  /**
   * A release left pending: ours (an upgrade of ours was killed mid-way; nobody runs it any more,
   * since only the leader runs helm and a lost leadership kills it) is rolled back or uninstalled;
   * anyone else's is reported with what to do, and not retried until a recheck.
   */
  private async recover(
    release: string,
    namespace: string,
    pending: ReleaseMetadata,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const history = await this.history(release, namespace, signal);
    if (!startedByRebound(pending)) {
      throw new ReboundError(pendingAdvice(release, namespace, pending, history), {
        code: 'HelmReleasePending',
        reason: 'ApplyFailed',
        retryable: false,
      });
    }
    const recovery = recoveryFor(pending, history);
    const kube = this.options.kubeconfigPath ? ['--kubeconfig', this.options.kubeconfigPath] : [];
    const timeoutSeconds = this.options.timeoutSeconds ?? 120;
    const args =
      recovery.kind === 'rollback'
        ? [
            'rollback',
            release,
            String(recovery.toRevision),
            '--namespace',
            namespace,
            '--timeout',
            `${timeoutSeconds}s`,
            ...kube,
          ]
        : ['uninstall', release, '--namespace', namespace, '--timeout', `${timeoutSeconds}s`, ...kube];
    this.options.log?.warn(
      { release, namespace, status: pending.status, revision: pending.revision, recovery },
      'helm release left pending by an interrupted Rebound upgrade: recovering',
    );
    const result = await this.run(args, (timeoutSeconds + 15) * 1000, signal);
    if (result.code !== 0 || result.timedOut) {
      const tail =
        lastLines(result.stderr, STDERR_LINES_IN_CONDITION) ||
        (result.timedOut ? 'timed out' : `exit code ${String(result.code)}`);
      throw new ReboundError(
        `helm release ${release} in ${namespace} was left ${pending.status} by an interrupted upgrade, and \`helm ${args.slice(0, 3).join(' ')}\` failed: ${tail}`,
        {
          code: 'HelmRecoveryFailed',
          reason: 'ApplyFailed',
          retryable: TRANSIENT.test(result.stderr),
        },
      );
    }
  }

  /** The release's newest revision; undefined when there is no release yet. */
  private async metadata(
    release: string,
    namespace: string,
    signal: AbortSignal | undefined,
  ): Promise<ReleaseMetadata | undefined> {
    const args = [
      'get',
      'metadata',
      release,
      '--namespace',
      namespace,
      '--output',
      'json',
      ...(this.options.kubeconfigPath ? ['--kubeconfig', this.options.kubeconfigPath] : []),
    ];
    const result = await this.run(args, QUERY_TIMEOUT_MS, signal);
    if (result.code !== 0 && /release: not found/i.test(result.stderr)) return undefined;
    const parsed = result.code === 0 ? parseMetadata(result.stdout) : undefined;
    if (parsed === undefined) {
      const tail =
        lastLines(result.stderr, STDERR_LINES_IN_CONDITION) ||
        (result.timedOut ? 'timed out' : `exit code ${String(result.code)}`);
      throw new ReboundError(`reading helm release ${release} in ${namespace} failed: ${tail}`, {
        code: 'HelmStatusFailed',
        reason: 'ApplyFailed',
        retryable: result.timedOut || TRANSIENT.test(result.stderr),
      });
    }
    return parsed;
  }

  private async history(release: string, namespace: string, signal: AbortSignal | undefined): Promise<HistoryEntry[]> {
    const args = [
      'history',
      release,
      '--namespace',
      namespace,
      '--max',
      '20',
      '--output',
      'json',
      ...(this.options.kubeconfigPath ? ['--kubeconfig', this.options.kubeconfigPath] : []),
    ];
    const result = await this.run(args, QUERY_TIMEOUT_MS, signal);
    return result.code === 0 ? parseHistory(result.stdout) : [];
  }

  private async run(args: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<ProcessResult> {
    const home = this.options.homeDir;
    // Leadership lost (or the reconcile cancelled) before or while helm ran: never report it as helm's failure.
    const stopped = (): never => {
      throw signal?.reason instanceof Error ? signal.reason : new Error('helm run cancelled');
    };
    if (signal?.aborted) stopped();
    let result: ProcessResult;
    try {
      // A slot first: a storm's workers queue here rather than start a helm process each.
      result = await this.processes.run(
        () =>
          runProcess(this.options.helmPath ?? 'helm', args, {
            timeoutMs,
            ...(signal ? { signal } : {}),
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
          }),
        signal,
      );
    } catch (err) {
      if (signal?.aborted) stopped();
      throw new ReboundError(`cannot run helm: ${err instanceof Error ? err.message : String(err)}`, {
        code: 'HelmNotRunnable',
        reason: 'ApplyFailed',
        retryable: false,
        cause: err,
      });
    }
    if (signal?.aborted) stopped();
    return result;
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
    'upgrade',
    a.release,
    a.chartDir,
    '--install',
    '--namespace',
    a.namespace,
    '--create-namespace',
    '--values',
    a.valuesFile,
    '--timeout',
    `${a.timeoutSeconds}s`,
    '--output',
    'json',
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
