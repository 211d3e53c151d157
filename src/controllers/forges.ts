// The Project's forge (spec.forge): built per use with the token read from its Secret at that moment
// (a rotated token is used at once, and a Secret is never cached past its use), called only on
// spec.git.url's host and spec.forge.allowedHosts. Commit statuses go through one
// bounded delivery queue per Project (src/forge/delivery.ts): a forge that is down never holds a
// reconcile or fails a remediation.
import type { Project, Reason } from '../api/index.ts';
import { REASONS } from '../api/index.ts';
import { ReboundError, errorMessage } from '../errors.ts';
import { StatusDelivery } from '../forge/delivery.ts';
import type { DeliveryLog, DeliveryOutcome, DeliveryResult } from '../forge/delivery.ts';
import { createForge } from '../forge/index.ts';
import type { Forge } from '../forge/index.ts';
import type { SecretReader } from '../kube/secrets.ts';
import type { Clock } from '../runtime/clock.ts';
import type { ForgeLookup, StageCommitStatus } from './ports.ts';

export interface ProjectForgesOptions {
  secrets: SecretReader;
  log?: DeliveryLog;
  observe?: (result: DeliveryResult) => void;
  clock?: Clock;
  /** For tests: the fetch the forge clients use. */
  fetch?: typeof fetch;
  /** A Project's forge went from delivering to failing or back (its ForgeReachable condition changes). */
  onHealthChange?: (namespace: string, name: string) => void;
}

/** How the last call to a Project's forge went: the Project's ForgeReachable condition. */
export interface ForgeHealth {
  ok: boolean;
  reason: Reason;
  message: string;
}

export class ProjectForges implements ForgeLookup {
  readonly #options: ProjectForgesOptions;
  readonly #delivery: StatusDelivery;
  readonly #health = new Map<string, ForgeHealth>();

  constructor(options: ProjectForgesOptions) {
    this.#options = options;
    this.#delivery = new StatusDelivery({
      ...(options.log ? { log: options.log } : {}),
      ...(options.observe ? { observe: options.observe } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      onOutcome: (target, outcome) => this.#record(target, outcome),
    });
  }

  /** The last outcome of a call to the Project's forge; undefined until one was made (or after a restart). */
  health(namespace: string, name: string): ForgeHealth | undefined {
    return this.#health.get(`${namespace}/${name}`);
  }

  #record(target: string, outcome: DeliveryOutcome): void {
    const next = forgeHealth(outcome);
    const last = this.#health.get(target);
    this.#health.set(target, next);
    // Only a change of state wakes the Project: a storm of statuses is not a storm of status writes.
    if (last?.ok === next.ok && last.reason === next.reason) return;
    const slash = target.indexOf('/');
    this.#options.onHealthChange?.(target.slice(0, slash), target.slice(slash + 1));
  }

  async forProject(project: Project): Promise<Forge | undefined> {
    const spec = project.spec.forge;
    if (!spec) return undefined;
    const namespace = project.metadata.namespace ?? 'default';
    const secret = await this.#options.secrets.readSecret(namespace, spec.secretRef.name);
    const token = secret?.['token'];
    if (!token)
      throw new ReboundError(
        secret
          ? `Secret ${namespace}/${spec.secretRef.name} (spec.forge.secretRef) has no "token" key`
          : `Secret ${namespace}/${spec.secretRef.name} (spec.forge.secretRef) does not exist`,
        { code: 'ForgeTokenMissing', reason: REASONS.ForgeMisconfigured, retryable: false },
      );
    return createForge({
      type: spec.type,
      url: spec.url,
      repository: spec.repository,
      token,
      allowedHosts: allowedHosts(project),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
  }

  postStatus(project: Project, status: StageCommitStatus): void {
    const spec = project.spec.forge;
    if (!spec || spec.commitStatuses === false) return;
    const link = spec.link
      ?.replaceAll('{namespace}', encodeURIComponent(status.problem.namespace))
      .replaceAll('{name}', encodeURIComponent(status.problem.name))
      .replaceAll('{attempt}', String(status.attempt));
    const target = targetOf(project);
    this.#delivery.enqueue(
      target,
      {
        sha: status.sha,
        state: status.state,
        context: `${spec.context ?? 'rebound'}/${status.stage}`,
        description: status.description,
        ...(link ? { targetUrl: link } : {}),
      },
      () => this.forProject(project),
    );
  }

  postComment(project: Project, number: number, body: string): void {
    if (!project.spec.forge) return;
    const target = targetOf(project);
    this.#comments += 1;
    this.#delivery.enqueueCall(
      target,
      {
        key: `comment\u0000${String(number)}\u0000${String(this.#comments)}`,
        send: (forge, signal) => forge.comment(number, body, signal),
        fields: { pullRequest: number },
      },
      () => this.forProject(project),
    );
  }

  #comments = 0;

  closePullRequest(project: Project, number: number, why: string): void {
    if (!project.spec.forge) return;
    this.postComment(project, number, why);
    // Queued behind the comment on the same target: a person reads why before it shows closed.
    this.#delivery.enqueueCall(
      targetOf(project),
      {
        key: `close\u0000${String(number)}`,
        send: (forge, signal) => forge.updatePullRequest(number, { state: 'closed' }, signal),
        fields: { pullRequest: number, close: true },
      },
      () => this.forProject(project),
    );
  }

  /** Resolves when no status waits (tests, a graceful stop). */
  idle(): Promise<void> {
    return this.#delivery.idle();
  }

  stop(): void {
    this.#delivery.stop();
  }
}

/** The delivery queue's target: one per Project. */
function targetOf(project: Project): string {
  return `${project.metadata.namespace ?? 'default'}/${project.metadata.name ?? ''}`;
}

/** A try's outcome as the Project's ForgeReachable: a token or address that is wrong is the Project's to fix. */
export function forgeHealth(outcome: DeliveryOutcome): ForgeHealth {
  if (outcome.result === 'delivered')
    return { ok: true, reason: REASONS.ForgeDelivered, message: 'the last call to the forge was delivered' };
  const err = outcome.error;
  const retryable = !(err instanceof ReboundError) || err.retryable;
  const reason = retryable ? REASONS.ForgeUnavailable : REASONS.ForgeMisconfigured;
  const state = outcome.result === 'retried' ? 'retrying' : 'given up';
  return { ok: false, reason, message: `a call to the forge failed (${state}): ${errorMessage(err)}` };
}

/**
 * spec.git.url's host (Rebound talks to it already) and spec.forge.allowedHosts: a forge elsewhere
 * (GitHub's API at api.github.com) must be listed, so spec.forge.url alone cannot send the token to
 * any host.
 */
export function allowedHosts(project: Project): string[] {
  const hosts = new Set<string>(project.spec.forge?.allowedHosts ?? []);
  try {
    hosts.add(new URL(project.spec.git.url).host);
  } catch {
    // Validated by the schema; an unparsable URL adds no host.
  }
  return [...hosts];
}
