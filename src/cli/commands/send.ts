// `rebound send problem`: deliver a problem the way a monitoring tool would (to the webhook, which
// picks the route by payload type) or straight to the cluster, as `keptn send event` did for Keptn.
// Exit 0 when stored, 1 when the receiver refused or failed, 2 for bad input.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { errorMessage, ReboundError } from '../../errors.ts';
import { formatDiagnostic, loadYaml } from '../../formats/yaml.ts';
import type { LocatedYaml } from '../../formats/yaml.ts';
import { parseTokens } from '../../config/token-file.ts';
import { fieldPathSegments, InvalidPayloadError, isObject } from '../../ingest/fields.ts';
import { detectPayloadKind, mapPayload } from '../../ingest/payloads.ts';
import type { PayloadKind } from '../../ingest/payloads.ts';
import { ROUTE_PATHS } from '../../ingest/server.ts';
import { KubeProblemStore } from '../../ingest/store.ts';
import type { StoredProblem } from '../../ingest/store.ts';
import type { Command } from './command.ts';

const HELP = `Usage: rebound send problem -f FILE (--to URL --token-file FILE | --kube) [options]

Sends one problem payload: a ProblemEvent manifest (YAML or JSON), an Alertmanager webhook payload,
a Keptn CloudEvent (sh.keptn.event.<stage>.remediation.triggered) or a Dynatrace problem
notification. The payload type is detected from the content.

  -f, --file FILE       the payload ("-" reads standard input)
  --to URL              Rebound's webhook address, e.g. http://127.0.0.1:8080; the route
                        (/v1/alertmanager, /v1/events, /v1/dynatrace, /v1/problems) follows the type
  --token-file FILE     the bearer token for --to (first non-comment line of the file)
  --kube                write the ProblemEvent(s) straight to the cluster instead
  --kubeconfig FILE     for --kube (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)
  --namespace NS        for --kube (default: the manifest's namespace, then the kubeconfig
                        context's namespace, then "default")
  --json                print the result as JSON

A CloudEvent without an "id" gets a fresh one (as keptn send event did), so sending the same file
again raises a new problem; give the event an id to make re-sends idempotent.

Exit status: 0 stored, 1 refused or failed by the receiver, 2 bad input.
`;

export const command: Command = {
  summary: 'Send a problem (Alertmanager, CloudEvent, Dynatrace or ProblemEvent) to Rebound',
  run,
};

interface SendOptions {
  file: string;
  to?: string | undefined;
  tokenFile?: string | undefined;
  kube: boolean;
  kubeconfig?: string | undefined;
  namespace?: string | undefined;
  json: boolean;
}

const ROUTES: Record<PayloadKind, { path: string; contentType: string }> = {
  alertmanager: { path: ROUTE_PATHS.alertmanager, contentType: 'application/json' },
  cloudevent: { path: ROUTE_PATHS.events, contentType: 'application/cloudevents+json' },
  dynatrace: { path: ROUTE_PATHS.dynatrace, contentType: 'application/json' },
  manifest: { path: ROUTE_PATHS.problems, contentType: 'application/json' },
};

async function run(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if (typeof parsed === 'number') return parsed;
  const options = parsed;

  let text: string;
  try {
    text = options.file === '-' ? await readStdin() : await readFile(options.file, 'utf8');
  } catch (err) {
    return fail(2, `cannot read ${options.file}: ${errorMessage(err)}`);
  }
  const loaded = loadYaml(options.file, text);
  if (!loaded.ok) return fail(2, loaded.diagnostics.map(formatDiagnostic).join('\n'));
  let payload = loaded.yaml.toJS();

  let kind: PayloadKind;
  try {
    kind = detectPayloadKind(payload);
    if (kind === 'cloudevent') payload = withEventId(payload);
    // Validate locally first: a bad file is reported with its line and column, whatever the target.
    mapPayload(kind, payload);
  } catch (err) {
    if (err instanceof InvalidPayloadError) return fail(2, locate(loaded.yaml, err));
    throw err;
  }

  return options.kube ? sendToCluster(options, kind, payload) : sendToWebhook(options, kind, payload);
}

function parseOptions(argv: string[]): SendOptions | number {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        file: { type: 'string', short: 'f' },
        to: { type: 'string' },
        'token-file': { type: 'string' },
        kube: { type: 'boolean', default: false },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    return usageError(errorMessage(err));
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'problem') return usageError('expected `rebound send problem`');
  if (values.file === undefined) return usageError('-f/--file is required');
  if ((values.to === undefined) === !values.kube) return usageError('give exactly one of --to URL or --kube');
  if (values.to !== undefined && values['token-file'] === undefined)
    return usageError('--to needs --token-file (the webhook requires a bearer token)');
  if (values.to === undefined && values['token-file'] !== undefined)
    return usageError('--token-file only applies to --to');
  if (values.kube === false && (values.kubeconfig !== undefined || values.namespace !== undefined))
    return usageError('--kubeconfig and --namespace only apply to --kube');
  return {
    file: values.file,
    to: values.to,
    tokenFile: values['token-file'],
    kube: values.kube,
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    json: values.json,
  };
}

async function sendToWebhook(options: SendOptions, kind: PayloadKind, payload: unknown): Promise<number> {
  let token: string | undefined;
  try {
    token = parseTokens(await readFile(options.tokenFile ?? '', 'utf8'))[0];
  } catch (err) {
    return fail(2, `cannot read the token file ${options.tokenFile ?? ''}: ${errorMessage(err)}`);
  }
  if (token === undefined) return fail(2, `the token file ${options.tokenFile ?? ''} holds no token`);
  let url: URL;
  try {
    url = new URL(ROUTES[kind].path.slice(1), withTrailingSlash(options.to ?? ''));
  } catch {
    return fail(2, `--to ${JSON.stringify(options.to)} is not a URL (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return fail(2, `--to must be an http or https URL, got ${url.protocol}`);

  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': ROUTES[kind].contentType, Authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    return fail(
      1,
      `cannot reach ${url.origin}: ${errorMessage(err instanceof Error && err.cause !== undefined ? err.cause : err)}`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text.slice(0, 500) };
  }
  if (!response.ok) {
    const error = isObject(body) && typeof body['error'] === 'string' ? body['error'] : `HTTP ${response.status}`;
    return fail(1, `${url.pathname} answered ${response.status}: ${error}`);
  }
  const names = isObject(body) && Array.isArray(body['problems']) ? body['problems'].map(String) : [];
  report(
    options,
    names.map((name) => ({ name, outcome: 'accepted' })),
    `via ${url.origin}${url.pathname}`,
  );
  return 0;
}

async function sendToCluster(options: SendOptions, kind: PayloadKind, payload: unknown): Promise<number> {
  const kubeConfig = new KubeConfig();
  try {
    if (options.kubeconfig !== undefined) kubeConfig.loadFromFile(options.kubeconfig);
    else kubeConfig.loadFromDefault();
  } catch (err) {
    return fail(2, `cannot load the kubeconfig: ${errorMessage(err)}`);
  }
  const manifestNamespace =
    kind === 'manifest' && isObject(payload) && isObject(payload['metadata'])
      ? payload['metadata']['namespace']
      : undefined;
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  const namespace =
    options.namespace ??
    (typeof manifestNamespace === 'string' ? manifestNamespace : undefined) ??
    contextNamespace ??
    'default';
  const store = new KubeProblemStore({ kubeConfig, namespace });
  const problems = mapPayload(kind, payload);
  try {
    const stored = await withRetries(() => store.store(problems));
    report(options, stored, `in namespace ${namespace}`);
    return 0;
  } catch (err) {
    return fail(1, errorMessage(err));
  }
}

/** A freshly started API server answers 429 for a while; a busy one 5xx: try a few times. */
async function withRetries<T>(task: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (err) {
      if (!(err instanceof ReboundError) || !err.retryable || attempt >= 4) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

function report(
  options: SendOptions,
  stored: readonly (StoredProblem | { name: string; outcome: string })[],
  where: string,
): void {
  if (options.json) {
    process.stdout.write(JSON.stringify({ problems: stored }) + '\n');
    return;
  }
  for (const s of stored) process.stdout.write(`problemevent/${s.name} ${s.outcome} ${where}\n`);
}

function withEventId(payload: unknown): unknown {
  if (!isObject(payload) || payload['id'] !== undefined) return payload;
  return { ...payload, id: randomUUID(), time: new Date().toISOString() };
}

function locate(yaml: LocatedYaml, err: InvalidPayloadError): string {
  return formatDiagnostic(yaml.diagnosticAt(fieldPathSegments(err.field), err.message));
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function usageError(message: string): number {
  process.stderr.write(`rebound send: ${message}\n\n${HELP}`);
  return 2;
}

function fail(code: number, message: string): number {
  process.stderr.write(`rebound send: ${message}\n`);
  return code;
}
