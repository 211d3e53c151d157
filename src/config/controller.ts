// The controller's configuration: the only place that reads argv and the environment. Everything
// below the composition root (wire.ts) receives typed values.
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ReboundError } from '../errors.ts';
import { LOG_LEVELS, isLogLevel } from '../observability/logger.ts';
import type { LogLevel } from '../observability/logger.ts';
import { parseDuration } from '../api/duration.ts';

export interface ControllerConfig {
  kubeconfig: string | undefined;
  /** Watch one namespace, or all when undefined. */
  namespace: string | undefined;
  /**
   * Watch only Projects, Remediations and ProblemEvents whose labels match (a shard, Flux-style:
   * `rebound.dev/shard=eu`, or `!rebound.dev/shard` for the unsharded rest); all when undefined.
   */
  watchLabelSelector: string | undefined;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** `/metrics`, `/healthz`, `/readyz`. */
  metricsAddress: string;
  /** Alertmanager, CloudEvents, Dynatrace and Git hooks; empty turns the webhook server off. */
  webhookAddress: string;
  webhookTokenFile: string | undefined;
  /** The web UI (problems, timelines, approvals); empty turns it off. */
  uiAddress: string;
  /** Shared secret of Git hosts' push webhooks (POST /hooks/git), re-read on change. */
  gitWebhookSecretFile: string | undefined;
  /** Where webhooks create ProblemEvents. */
  problemNamespace: string;
  /** The webhook server's URL as runbooks reach it, for their callbacks (default: the address it listens on). */
  callbackUrl: string | undefined;
  /** CloudEvents sink for action types nothing built in carries out (Keptn-style executors); off when undefined. */
  actionSink: string | undefined;
  actionSinkTokenFile: string | undefined;
  /** How long an external executor has to report `sh.keptn.event.action.finished`. */
  actionTimeoutMs: number;
  /** How long an executor has to report `sh.keptn.event.<task>.finished` for a shipyard sequence task. */
  taskTimeoutMs: number;
  workDir: string;
  prometheusUrl: string | undefined;
  /** Hosts a Remediation's evaluation.prometheusURL may name besides the default's. */
  prometheusAllowedHosts: string[];
  helmPath: string;
  helmTimeoutSeconds: number;
  workers: number;
  /** Wait between applying an action and evaluating it, unless the Remediation says otherwise. */
  evaluationWait: string;
  turnPollMs: number;
  evaluationRetryMs: number;
  stalledRecheckMs: number;
  /** apply: flux: how often to look whether the engine reported an attempt's commit. */
  syncPollMs: number;
  /** From an apply until its rollout must have finished; 0: do not wait (applied counts as live). */
  rolloutTimeoutMs: number;
  /** While a rollout runs: how often to look at the workloads. */
  rolloutPollMs: number;
  resyncMs: number;
  /** Hosts a Notification's sink may be on (the SSRF guard for notifications). */
  notificationAllowedHosts: string[];
  /** A failing sink is tried again after at most this long. */
  notificationRetryMaxMs: number;
  /** How often a Notification's Secret is read again. */
  notificationRefreshMs: number;
  logLevel: LogLevel;
  logPretty: boolean;
  /** Where each problem's trace is sent (OTLP/HTTP); tracing is off when undefined. */
  tracing: TracingConfig | undefined;
}

export interface TracingConfig {
  /** The OTLP/HTTP traces URL, e.g. http://jaeger:4318/v1/traces. */
  url: string;
  /** OTEL_EXPORTER_OTLP_HEADERS (and _TRACES_HEADERS): e.g. an API key. Never logged. */
  headers: Record<string, string>;
  /** The service.name resource attribute (OTEL_SERVICE_NAME, default rebound). */
  serviceName: string;
}

/** Slack's Web API and the hosts Teams Workflows URLs are on. */
export const DEFAULT_NOTIFICATION_HOSTS = ['slack.com', '*.logic.azure.com', '*.environment.api.powerplatform.com'];

export const CONTROLLER_USAGE = `Usage: rebound controller [options]

Runs the controller against the current kubeconfig (or in-cluster configuration).

Options:
  --kubeconfig PATH               kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --namespace NS                  watch one namespace (default: all)
  --watch-label-selector SEL      watch only objects whose labels match: one shard of the Projects, e.g.
                                  rebound.dev/shard=eu, or '!rebound.dev/shard' for the unsharded rest
                                  (default: all); each shard elects its own leader
  --leader-elect / --no-leader-elect
                                  elect a leader with a Lease so replicas never both act (default: on)
  --leader-election-namespace NS  namespace of the Lease (default: $POD_NAMESPACE or rebound-system)
  --leader-election-name NAME     name of the Lease (default rebound-controller, and with
                                  --watch-label-selector rebound-controller-<hash of the selector>)
  --lease-duration D              Lease duration (default 15s); renew deadline and retry period follow
  --metrics-address HOST:PORT     /metrics, /healthz, /readyz (default 127.0.0.1:9090)
  --webhook-address HOST:PORT     Alertmanager, CloudEvents and Dynatrace webhooks (default: off)
  --webhook-token-file PATH       bearer token(s) for the webhooks, one per line (re-read on change)
  --ui-address HOST:PORT          the web UI: problems, their timelines, approve/reject/abort/retry; people
                                  sign in with a Kubernetes bearer token and act as themselves (default: off)
  --git-webhook-secret-file PATH  secret of GitHub/Gitea/GitLab push webhooks on /hooks/git: a push
                                  re-reads the Project's branches at once (default: polling only)
  --problem-namespace NS          where webhooks create ProblemEvents (default: $POD_NAMESPACE or default)
  --callback-url URL              the webhook server's URL as runbooks reach it, for webhook actions
                                  with waitForCallback (default: the address it listens on)
  --action-sink URL               send action types nothing built in handles to this CloudEvents sink as
                                  sh.keptn.event.action.triggered (Keptn executors; default: refuse them)
  --action-sink-token-file PATH   bearer token for the sink (re-read on change)
  --action-timeout D              how long an executor has to send action.finished (default 30m)
  --task-timeout D                how long an executor has to send <task>.finished for a task of the
                                  shipyard's remediation sequence after the action (default: --action-timeout)
  --work-dir PATH                 Git object stores and scratch space (default: $TMPDIR/rebound)
  --prometheus-url URL            default Prometheus for SLI queries (a Remediation may name its own)
  --prometheus-allowed-hosts LIST hosts a Remediation's evaluation.prometheusURL may name besides the
                                  default's, comma-separated, as webhook allowedHosts (default: none)
  --helm PATH                     helm binary (default: helm on PATH)
  --helm-timeout D                helm upgrade timeout (default 2m)
  --workers N                     concurrent reconciles, different problems only (default 32; they
                                  mostly wait on the API and Git servers; helm runs 4 at most)
  --evaluation-wait D             wait after an action before evaluating it (default 2m, Keptn's loop)
  --turn-poll D                   safety net: a problem waiting for its service's turn looks again after
                                  this long; it is woken as soon as the turn frees (default 5m)
  --evaluation-retry D            retry after the metrics source was unreachable (default 30s)
  --stalled-recheck D             look again at what only a person can fix (default 5m)
  --sync-poll D                   apply: flux: how often to look whether Flux reported the commit
                                  (default 2s; one read of each Kustomization and its source)
  --rollout-timeout D             after helm, kubernetes or Flux applied an attempt, wait until the
                                  service's Deployments and StatefulSets have rolled out, for at most this
                                  long, before the evaluation's clock starts; a rollout that fails or
                                  takes longer fails the attempt (default 10m; 0: do not wait)
  --rollout-poll D                how often to look at a rollout under way (default 1s; two list calls)
  --resync D                      informer resync period (default 10m)
  --notification-allowed-hosts LIST
                                  hosts a Notification's sink may be on, comma-separated, as webhook
                                  allowedHosts (default: slack.com, *.logic.azure.com,
                                  *.environment.api.powerplatform.com)
  --notification-retry-max D      a failing sink is tried again after at most this long (default 5m)
  --notification-refresh D        how often a Notification's Secret is read again (default 1m)
  --log-level LEVEL               ${LOG_LEVELS.join(', ')} (default info)
  --log-format json|pretty        (default json)
  --otlp-endpoint URL             send each problem's trace over OTLP/HTTP to URL/v1/traces (default:
                                  $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
                                  $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, else off);
                                  OTEL_EXPORTER_OTLP_HEADERS and OTEL_SERVICE_NAME are read too
`;

export function parseControllerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ControllerConfig {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: false,
    allowNegative: true,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'leader-elect': { type: 'boolean', default: true },
      'leader-election-namespace': { type: 'string' },
      'leader-election-name': { type: 'string' },
      'watch-label-selector': { type: 'string' },
      'lease-duration': { type: 'string', default: '15s' },
      'metrics-address': { type: 'string', default: '127.0.0.1:9090' },
      'webhook-address': { type: 'string', default: '' },
      'webhook-token-file': { type: 'string' },
      'ui-address': { type: 'string', default: '' },
      'git-webhook-secret-file': { type: 'string' },
      'problem-namespace': { type: 'string' },
      'callback-url': { type: 'string' },
      'action-sink': { type: 'string' },
      'action-sink-token-file': { type: 'string' },
      'action-timeout': { type: 'string', default: '30m' },
      'task-timeout': { type: 'string' },
      'work-dir': { type: 'string' },
      'prometheus-url': { type: 'string' },
      'prometheus-allowed-hosts': { type: 'string', default: '' },
      helm: { type: 'string', default: 'helm' },
      'helm-timeout': { type: 'string', default: '2m' },
      workers: { type: 'string', default: '32' },
      'evaluation-wait': { type: 'string', default: '2m' },
      'turn-poll': { type: 'string', default: '5m' },
      'evaluation-retry': { type: 'string', default: '30s' },
      'stalled-recheck': { type: 'string', default: '5m' },
      'sync-poll': { type: 'string', default: '2s' },
      'rollout-timeout': { type: 'string', default: '10m' },
      'rollout-poll': { type: 'string', default: '1s' },
      resync: { type: 'string', default: '10m' },
      'log-level': { type: 'string', default: 'info' },
      'log-format': { type: 'string', default: 'json' },
      'notification-allowed-hosts': { type: 'string', default: DEFAULT_NOTIFICATION_HOSTS.join(',') },
      'notification-retry-max': { type: 'string', default: '5m' },
      'notification-refresh': { type: 'string', default: '1m' },
      'otlp-endpoint': { type: 'string' },
    },
  });
  const podNamespace = env.POD_NAMESPACE;
  const leaseDurationMs = duration('--lease-duration', values['lease-duration']);
  const webhookAddress = values['webhook-address'];
  if (values['git-webhook-secret-file'] && webhookAddress === '') {
    throw usage('--git-webhook-secret-file needs --webhook-address: push webhooks arrive on the webhook server');
  }
  if (webhookAddress !== '' && !values['webhook-token-file']) {
    throw usage('--webhook-address needs --webhook-token-file: the webhooks never run without authentication');
  }
  const logLevel = values['log-level'];
  if (!isLogLevel(logLevel)) throw usage(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = values['log-format'];
  if (logFormat !== 'json' && logFormat !== 'pretty') throw usage('--log-format must be json or pretty');
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw usage('--workers must be a whole number from 1 to 64');
  const prometheusUrl = values['prometheus-url'];
  if (prometheusUrl !== undefined && !/^https?:\/\/\S+$/.test(prometheusUrl))
    throw usage('--prometheus-url must be an http(s) URL');
  for (const flag of ['callback-url', 'action-sink'] as const) {
    const url = values[flag];
    if (url !== undefined && !/^https?:\/\/\S+$/.test(url)) throw usage(`--${flag} must be an http(s) URL`);
  }
  if (values['action-sink'] && webhookAddress === '') {
    throw usage('--action-sink needs --webhook-address: executors report sh.keptn.event.action.finished to /v1/events');
  }
  if (values['action-sink-token-file'] && !values['action-sink'])
    throw usage('--action-sink-token-file needs --action-sink');
  if (values['callback-url'] && webhookAddress === '')
    throw usage('--callback-url needs --webhook-address: runbooks call back to the webhook server');
  const selector = values['watch-label-selector']?.trim();
  if (selector !== undefined && !LABEL_SELECTOR.test(selector)) {
    throw usage(`--watch-label-selector takes a label selector like rebound.dev/shard=eu, not "${selector}"`);
  }
  const leaseName = values['leader-election-name'];
  if (leaseName !== undefined && !DNS_SUBDOMAIN.test(leaseName))
    throw usage('--leader-election-name must be a DNS name (lower case, digits, - and .)');
  return {
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    namespace: values.namespace,
    watchLabelSelector: selector,
    leaderElect: values['leader-elect'],
    leaderElectionNamespace: values['leader-election-namespace'] ?? podNamespace ?? 'rebound-system',
    leaderElectionName: leaseName ?? shardLeaseName(selector),
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    leaseDurationMs,
    // client-go's proportions: renew well before the Lease runs out, retry often.
    renewDeadlineMs: Math.round((leaseDurationMs * 2) / 3),
    retryPeriodMs: Math.max(100, Math.round(leaseDurationMs / 7.5)),
    metricsAddress: values['metrics-address'],
    webhookAddress,
    webhookTokenFile: values['webhook-token-file'],
    uiAddress: values['ui-address'],
    gitWebhookSecretFile: values['git-webhook-secret-file'],
    problemNamespace: values['problem-namespace'] ?? podNamespace ?? 'default',
    callbackUrl: values['callback-url'],
    actionSink: values['action-sink'],
    actionSinkTokenFile: values['action-sink-token-file'],
    actionTimeoutMs: duration('--action-timeout', values['action-timeout']),
    taskTimeoutMs: duration('--task-timeout', values['task-timeout'] ?? values['action-timeout']),
    workDir: values['work-dir'] ?? join(tmpdir(), 'rebound'),
    prometheusUrl,
    prometheusAllowedHosts: values['prometheus-allowed-hosts']
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== ''),
    helmPath: values.helm,
    helmTimeoutSeconds: Math.ceil(duration('--helm-timeout', values['helm-timeout']) / 1000),
    workers,
    evaluationWait: validDuration('--evaluation-wait', values['evaluation-wait']),
    turnPollMs: duration('--turn-poll', values['turn-poll']),
    evaluationRetryMs: duration('--evaluation-retry', values['evaluation-retry']),
    stalledRecheckMs: duration('--stalled-recheck', values['stalled-recheck']),
    syncPollMs: duration('--sync-poll', values['sync-poll']),
    rolloutTimeoutMs: values['rollout-timeout'] === '0' ? 0 : duration('--rollout-timeout', values['rollout-timeout']),
    rolloutPollMs: duration('--rollout-poll', values['rollout-poll']),
    resyncMs: duration('--resync', values.resync),
    notificationAllowedHosts: values['notification-allowed-hosts']
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== ''),
    notificationRetryMaxMs: duration('--notification-retry-max', values['notification-retry-max']),
    notificationRefreshMs: duration('--notification-refresh', values['notification-refresh']),
    logLevel,
    logPretty: logFormat === 'pretty',
    tracing: tracingConfig(values['otlp-endpoint'], env),
  };
}

/**
 * Tracing's settings from --otlp-endpoint and OpenTelemetry's standard variables: the flag (a base
 * URL, as OTEL_EXPORTER_OTLP_ENDPOINT), else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the traces URL as
 * it is), else OTEL_EXPORTER_OTLP_ENDPOINT. OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn
 * it off; Rebound speaks OTLP over HTTP only, so a grpc protocol is refused rather than sent to.
 */
export function tracingConfig(flag: string | undefined, env: NodeJS.ProcessEnv): TracingConfig | undefined {
  const base = (url: string): string => `${url.replace(/\/+$/, '')}/v1/traces`;
  const tracesEndpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const endpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const url =
    flag !== undefined
      ? base(flag)
      : tracesEndpoint !== undefined
        ? tracesEndpoint
        : endpoint !== undefined
          ? base(endpoint)
          : undefined;
  if (url === undefined) return undefined;
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return undefined;
  if (nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase() === 'none') return undefined;
  const what = flag !== undefined ? '--otlp-endpoint' : 'the OTLP endpoint';
  if (!/^https?:\/\/\S+$/.test(url)) throw usage(`${what} must be an http(s) URL`);
  const protocol = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL);
  if (protocol !== undefined && protocol !== 'http/json' && protocol !== 'http/protobuf') {
    throw usage(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: Rebound sends OTLP over HTTP (http/json) only`);
  }
  return {
    url,
    headers: {
      ...otlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...otlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    },
    serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? 'rebound',
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** `key1=value1,key2=value2`, values URL-encoded (OpenTelemetry's format); bad entries are refused by name only. */
function otlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of (text ?? '').split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = (eq === -1 ? '' : entry.slice(0, eq)).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      throw usage('OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas');
    }
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw usage(`OTEL_EXPORTER_OTLP_HEADERS: the value of ${key} is not URL-encoded`);
    }
    headers[key.toLowerCase()] = value;
  }
  return headers;
}

/** The characters of a label selector (`key=value`, `key!=value`, `!key`, `key in (a,b)`, comma-separated); the API server checks the rest. */
const LABEL_SELECTOR = /^!?[A-Za-z0-9][A-Za-z0-9./_\-=!,() ]*$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Each shard its own leader: the Lease is named after the selector unless a name is given. */
function shardLeaseName(selector: string | undefined): string {
  if (selector === undefined) return 'rebound-controller';
  return `rebound-controller-${createHash('sha256').update(selector).digest('hex').slice(0, 10)}`;
}

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw usage(`${flag} takes a duration like 30s, 2m or 1h30m, not "${text}"`);
  }
}

function validDuration(flag: string, text: string): string {
  duration(flag, text);
  return text;
}

function usage(message: string): ReboundError {
  return new ReboundError(message, { code: 'InvalidFlag', retryable: false });
}
