// `webhook`: calls a runbook (a ServiceNow workflow, a Rundeck job, a script behind HTTP) with the
// problem. The action's value is an endpoint named in the Remediation's spec.webhook.endpoints, or a
// URL; either way the host must be in spec.webhook.allowedHosts, so a policy pushed to Git can never
// make the controller call an address nobody allowed. Success is a 2xx, or with `waitForCallback`
// the runbook's `POST /v1/actions/<id>/finished` before the callback timeout.
import { REASONS, WEBHOOK_ACTION } from '../api/index.ts';
import type { Reason, RemediationAction, WebhookSpec } from '../api/index.ts';
import type { SecretReader } from '../kube/secrets.ts';
import { parseDuration } from '../api/duration.ts';
import { ReboundError } from '../errors.ts';
import { checkAllowedUrl } from '../net/allowed-hosts.ts';
import { actionProblem, endpointLabel } from './types.ts';
import type { ActionCheck, ActionContext, ActionHandler, ActionOutcome, ActionScope } from './types.ts';
import { callWebhook, renderWebhookBody, webhookCredentialHeaders } from './webhook-call.ts';
import type { Clock } from '../runtime/clock.ts';

export const WEBHOOK_DEFAULTS = { method: 'POST', timeout: '10s', retries: 3, callbackTimeout: '30m' } as const;

/** One call, with the endpoint's settings over the Remediation's defaults. */
export interface ResolvedWebhook {
  url: string;
  /** The endpoint's name, when the value named one. */
  endpoint?: string;
  method: 'POST' | 'PUT';
  secretName?: string;
  headers: Record<string, string>;
  timeoutMs: number;
  retries: number;
  waitForCallback: boolean;
  callbackTimeoutMs: number;
  allowedHosts: readonly string[];
}

export type WebhookResolution = { ok: true; webhook: ResolvedWebhook } | { ok: false; reason: Reason; message: string };

/** The webhook an action's value means, allowed or refused, without calling anything. */
export function resolveWebhook(value: string, spec: WebhookSpec | undefined): WebhookResolution {
  if (!spec) {
    return {
      ok: false,
      reason: REASONS.WebhookNotConfigured,
      message: 'webhook actions need spec.webhook.allowedHosts (the hosts Rebound may call) in a Remediation resource',
    };
  }
  const isUrl = /^https?:\/\//i.test(value);
  const endpoint = isUrl ? undefined : spec.endpoints?.find((e) => e.name === value);
  if (!isUrl && !endpoint) {
    const known = (spec.endpoints ?? []).map((e) => e.name);
    return {
      ok: false,
      reason: REASONS.WebhookNotConfigured,
      message: `webhook "${value}" is not in spec.webhook.endpoints${known.length ? ` (${known.join(', ')})` : ''} and is not an http(s) URL`,
    };
  }
  const url = endpoint?.url ?? value;
  const allowedHosts = spec.allowedHosts ?? [];
  const allowed = checkAllowedUrl(url, allowedHosts);
  if (!allowed.ok) return { ok: false, reason: REASONS.WebhookHostNotAllowed, message: allowed.reason };
  try {
    const secretName = endpoint?.secretRef?.name ?? spec.secretRef?.name;
    return {
      ok: true,
      webhook: {
        url,
        ...(endpoint ? { endpoint: endpoint.name } : {}),
        method: endpoint?.method ?? spec.method ?? WEBHOOK_DEFAULTS.method,
        ...(secretName ? { secretName } : {}),
        headers: { ...spec.headers, ...endpoint?.headers },
        timeoutMs: parseDuration(endpoint?.timeout ?? spec.timeout ?? WEBHOOK_DEFAULTS.timeout),
        retries: endpoint?.retries ?? spec.retries ?? WEBHOOK_DEFAULTS.retries,
        waitForCallback: endpoint?.waitForCallback ?? spec.waitForCallback ?? false,
        callbackTimeoutMs: parseDuration(
          endpoint?.callbackTimeout ?? spec.callbackTimeout ?? WEBHOOK_DEFAULTS.callbackTimeout,
        ),
        allowedHosts,
      },
    };
  } catch (err) {
    return {
      ok: false,
      reason: REASONS.WebhookNotConfigured,
      message: `spec.webhook: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

export interface WebhookActionOptions {
  secrets: SecretReader;
  /** Base URL runbooks call back to (the controller's webhook server, as they reach it). */
  callbackBaseUrl: () => string | undefined;
  clock: Clock;
  /** For tests: the HTTP client. */
  fetch?: typeof fetch;
}

export class WebhookAction implements ActionHandler {
  readonly executor = WEBHOOK_ACTION;
  readonly background = true;
  private readonly options: WebhookActionOptions;

  constructor(options: WebhookActionOptions) {
    this.options = options;
  }

  check(action: RemediationAction, scope: ActionScope): ActionCheck {
    const resolved = resolveWebhook(action.value, scope.remediation?.spec.webhook);
    if (!resolved.ok) return resolved;
    if (resolved.webhook.waitForCallback && !this.options.callbackBaseUrl()) {
      return {
        ok: false,
        reason: REASONS.WebhookNotConfigured,
        message:
          'waitForCallback needs a callback URL runbooks can reach: run the controller with --webhook-address and, when it listens on all interfaces, --callback-url',
      };
    }
    return { ok: true };
  }

  async run(ctx: ActionContext): Promise<ActionOutcome> {
    const resolved = resolveWebhook(ctx.attempt.value, ctx.remediation?.spec.webhook);
    if (!resolved.ok)
      throw new ReboundError(resolved.message, { code: resolved.reason, reason: resolved.reason, retryable: false });
    const webhook = resolved.webhook;
    const headers = { ...webhook.headers, ...(await this.credentials(ctx, webhook)) };
    const { problem, attempt, stage } = ctx;
    const callbackBaseUrl = this.options.callbackBaseUrl();
    const callbackUrl =
      webhook.waitForCallback && callbackBaseUrl
        ? `${callbackBaseUrl.replace(/\/+$/, '')}/v1/actions/${encodeURIComponent(ctx.actionId)}/finished`
        : undefined;
    const body = renderWebhookBody({
      actionId: ctx.actionId,
      ...(callbackUrl ? { callbackUrl } : {}),
      problem: actionProblem(problem, stage.name),
      attempt: {
        index: attempt.index,
        action: attempt.action,
        value: attempt.value,
        ...(attempt.name ? { name: attempt.name } : {}),
      },
      links: {},
    });
    const target = webhook.endpoint
      ? `${webhook.endpoint} (${endpointLabel(webhook.url)})`
      : endpointLabel(webhook.url);
    const result = await callWebhook(
      { url: webhook.url, method: webhook.method, headers, body, idempotencyKey: ctx.actionId },
      {
        allowedHosts: webhook.allowedHosts,
        timeoutMs: webhook.timeoutMs,
        retries: webhook.retries,
        signal: ctx.signal,
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      },
    );
    const execution = {
      executor: this.executor,
      target,
      tries: result.tries,
      ...(result.status !== undefined ? { responseCode: result.status } : {}),
    };
    if (!result.ok) {
      return {
        kind: 'failed',
        reason: result.reason,
        detail: `webhook ${target}: ${result.message}`,
        execution: { ...execution, message: result.message },
      };
    }
    const answered = `webhook ${target} answered ${result.status}${result.tries > 1 ? ` after ${result.tries} tries` : ''}`;
    if (!webhook.waitForCallback)
      return { kind: 'done', detail: answered, execution: { ...execution, message: answered } };
    const deadline = new Date(this.options.clock.now() + webhook.callbackTimeoutMs);
    return {
      kind: 'waiting',
      detail: `${answered}; waiting for its callback until ${deadline.toISOString()}`,
      deadline,
      execution: { ...execution, message: answered },
    };
  }

  private async credentials(ctx: ActionContext, webhook: ResolvedWebhook): Promise<Record<string, string>> {
    if (!webhook.secretName) return {};
    const namespace = ctx.problem.metadata.namespace ?? 'default';
    const data = await this.options.secrets.readSecret(namespace, webhook.secretName);
    if (!data) {
      throw new ReboundError(`webhook Secret ${namespace}/${webhook.secretName} does not exist`, {
        code: REASONS.SecretNotFound,
        reason: REASONS.SecretNotFound,
        retryable: false,
      });
    }
    return webhookCredentialHeaders(data);
  }
}
