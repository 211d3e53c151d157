// The Project reconciler: can the repository be read with the Project's Secret (GitReachable), do its
// stages and watched files parse (ConfigValid), and which head of each stage branch was read last
// (status.stages). It runs again on the Project's `spec.git.poll` schedule, which is also the branch
// watch: a moved stage branch has its remediation.yaml / slo.yaml / sli.yaml fed to the shared
// last-good caches, so a broken push is reported here with file:line:column while the last good
// version stays in force for the ProblemEvent loop.
import { CONDITION_TYPES, REASONS } from '../../api/index.ts';
import type { Project, ProjectStatus, Reason } from '../../api/index.ts';
import { ReboundError, errorMessage, failureReason } from '../../errors.ts';
import { formatDiagnostic } from '../../formats/yaml.ts';
import { parseShipyardFile } from '../../formats/shipyard.ts';
import type { ShipyardStage } from '../../formats/shipyard.ts';
import { parsePollSchedule } from '../../gitstore/watch.ts';
import { splitKey } from '../../runtime/keys.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Reconciler, ReconcileContext, ReconcileResult } from '../../runtime/controller.ts';
import type { ConfigCaches } from '../config-caches.ts';
import { readOffered, watchedFile } from '../config-caches.ts';
import { conditionsOf, writeStatus } from '../status.ts';
import type { Conditions } from '../status.ts';

/** What the reconciler reads of a project's Git store. */
export interface ProjectRepository {
  head(branch: string): Promise<string>;
  readFile(branch: string, path: string): Promise<{ text: string; commit: string } | undefined>;
  readFileAt(commit: string, path: string): Promise<{ text: string } | undefined>;
  changedPaths(oldCommit: string | undefined, newCommit: string): Promise<string[]>;
}

export interface ProjectControllerPorts {
  clock: Clock;
  cache: { get(key: string): Project | undefined };
  repositories: {
    storeFor(project: Project): Promise<ProjectRepository>;
    /** The Project was deleted: release its store (connections, objects on disk). */
    forget?(namespace: string, name: string): Promise<void>;
  };
  writer: { patchStatus(project: Project, status: ProjectStatus): Promise<unknown> };
  configs: ConfigCaches;
  /** Poll interval when `spec.git.poll` is a cron expression (the queue works with delays). */
  cronFallbackMs?: number;
  /** How the last call to the Project's forge went (commit statuses are posted off the loop). */
  forgeHealth?: (namespace: string, name: string) => { ok: boolean; reason: Reason; message: string } | undefined;
}

type StageStatus = NonNullable<ProjectStatus['stages']>[number];

const SHIPYARD = 'shipyard.yaml';
const DEFAULT_POLL = '1m';
/** Stalled=False's message while a failure is retried on the poll interval. */
const RETRIED = 'retried on the poll interval';

export class ProjectReconciler implements Reconciler {
  private readonly ports: ProjectControllerPorts;
  /** Per project key: the head of each stage branch whose watched files were fed to the caches. */
  private readonly fed = new Map<string, Map<string, string>>();

  constructor(ports: ProjectControllerPorts) {
    this.ports = ports;
  }

  async reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | undefined> {
    const project = this.ports.cache.get(key);
    if (!project) {
      this.fed.delete(key);
      const ref = splitKey(key);
      await this.ports.repositories.forget?.(ref.namespace ?? 'default', ref.name);
      return undefined;
    }
    const now = new Date(this.ports.clock.now());
    const name = project.metadata.name ?? '';
    const conditions = conditionsOf(project, now);

    let pollMs: number;
    try {
      const schedule = parsePollSchedule(project.spec.git.poll ?? DEFAULT_POLL);
      pollMs = schedule.kind === 'interval' ? schedule.ms : (this.ports.cronFallbackMs ?? 60_000);
    } catch (err) {
      const message = errorMessage(err);
      conditions.set({ type: CONDITION_TYPES.ConfigValid, status: 'False', reason: REASONS.InvalidSpec, message });
      conditions.markStalled(REASONS.InvalidSpec, message);
      await writeStatus(this.ports.writer, project, {}, conditions);
      return undefined; // a spec change requeues it
    }

    this.setForgeReachable(project, conditions);
    const read = await this.readRepository(key, project, ctx).catch((err: unknown) => ({ failed: err }));
    if ('failed' in read) {
      const reason = failureReason(read.failed, REASONS.GitUnreachable);
      const retryable = read.failed instanceof ReboundError ? read.failed.retryable : true;
      const message = errorMessage(read.failed);
      ctx.log.warn({ project: key, reason, err: read.failed }, 'project repository could not be read');
      conditions.set({ type: CONDITION_TYPES.GitReachable, status: 'False', reason, message });
      if (retryable) conditions.markNotReady(reason, message, RETRIED);
      else conditions.markStalled(reason, message);
      await writeStatus(this.ports.writer, project, {}, conditions);
      return { requeueAfterMs: pollMs };
    }

    conditions.set({
      type: CONDITION_TYPES.GitReachable,
      status: 'True',
      reason: REASONS.GitFetched,
      message: `fetched ${read.stages.length} stage branch(es)`,
    });
    const broken = [
      ...this.ports.configs.remediation
        .problems(name)
        .map((p) => ({ reason: REASONS.PolicyInvalid, message: p.message })),
      ...this.ports.configs.slo.problems(name).map((p) => ({ reason: REASONS.SLOInvalid, message: p.message })),
      ...this.ports.configs.sli.problems(name).map((p) => ({ reason: REASONS.SLOInvalid, message: p.message })),
    ];
    const configProblem = read.config ?? broken[0];
    if (configProblem) {
      const message = [configProblem.message, ...broken.filter((b) => b !== configProblem).map((b) => b.message)].join(
        '; ',
      );
      conditions.set({ type: CONDITION_TYPES.ConfigValid, status: 'False', reason: configProblem.reason, message });
      // A broken watched file leaves the last good version in force: the project still works.
      if (read.config !== undefined) conditions.markStalled(configProblem.reason, message);
      else conditions.markNotReady(configProblem.reason, message, RETRIED);
    } else {
      conditions.set({
        type: CONDITION_TYPES.ConfigValid,
        status: 'True',
        reason: REASONS.ConfigValid,
        message: `${read.stages.length} stage(s); shipyard and watched files parse`,
      });
      conditions.markReady(REASONS.Succeeded, `${read.stages.length} stage(s) ready`);
    }
    await writeStatus(
      this.ports.writer,
      project,
      { stages: read.stages, lastFetchTime: now.toISOString() },
      conditions,
    );
    return { requeueAfterMs: pollMs };
  }

  /**
   * ForgeReachable, informational: a forge that fails never holds a remediation (its calls are
   * queued and retried), so it is not part of Ready; a person reads here why statuses are missing.
   */
  private setForgeReachable(project: Project, conditions: Conditions): void {
    if (!project.spec.forge) {
      conditions.clear(CONDITION_TYPES.ForgeReachable);
      return;
    }
    const health = this.ports.forgeHealth?.(project.metadata.namespace ?? 'default', project.metadata.name ?? '');
    if (!health) return;
    conditions.set({
      type: CONDITION_TYPES.ForgeReachable,
      status: health.ok ? 'True' : 'False',
      reason: health.reason,
      message: health.message,
    });
  }

  /** Reads the stage list and each stage branch's head; feeds moved branches' watched files to the caches. */
  private async readRepository(
    key: string,
    project: Project,
    ctx: ReconcileContext,
  ): Promise<{ stages: StageStatus[]; config?: { reason: Reason; message: string } }> {
    const name = project.metadata.name ?? '';
    const repository = await this.ports.repositories.storeFor(project);
    let stages: StageStatus[];
    if (project.spec.stages && project.spec.stages.length > 0) {
      stages = project.spec.stages.map((s) => ({
        name: s.name,
        branch: s.branch ?? s.name,
        namespace: s.namespace ?? `${name}-${s.name}`,
        remediation: s.remediation ?? 'automated',
        apply: s.apply ?? 'helm',
      }));
      await this.addShipyardTasks(project, stages);
    } else {
      const branch = project.spec.git.defaultBranch ?? 'main';
      const file = await repository.readFile(branch, SHIPYARD);
      if (!file) {
        return {
          stages: [],
          config: {
            reason: REASONS.ShipyardNotFound,
            message: `spec.stages is empty and there is no ${SHIPYARD} on branch ${branch}`,
          },
        };
      }
      const parsed = parseShipyardFile(SHIPYARD, file.text);
      if (!parsed.ok) {
        const shown = parsed.diagnostics.slice(0, 3).map(formatDiagnostic).join('; ');
        return {
          stages: [],
          config: {
            reason: REASONS.ShipyardInvalid,
            message: `${SHIPYARD} on ${branch} at ${file.commit.slice(0, 8)} is invalid: ${shown}`,
          },
        };
      }
      stages = parsed.shipyard.stages.map((s) => ({
        name: s.name,
        branch: s.name,
        namespace: `${name}-${s.name}`,
        // Keptn ran remediation only where the shipyard asked for it.
        remediation: s.remediation === 'automated' ? 'automated' : 'disabled',
        apply: 'helm',
        // The loop follows the sequence's tasks (what follows the action, the evaluation's timeframe).
        ...(s.remediationTasks ? { remediationTasks: s.remediationTasks.map(({ path: _path, ...task }) => task) } : {}),
      }));
    }
    const fed = this.fed.get(key) ?? new Map<string, string>();
    this.fed.set(key, fed);
    for (const stage of stages) {
      const head = await repository.head(stage.branch);
      stage.commit = head;
      const previous = fed.get(stage.branch);
      if (previous === head) continue;
      // First sight (also after a restart): every file of the branch, so the caches know each one.
      const changed = await repository.changedPaths(previous, head);
      for (const path of changed) {
        const watched = watchedFile(path);
        if (!watched) continue;
        const version = await readOffered(() => repository.readFileAt(head, path), head);
        const cache = this.ports.configs[watched.kind] as ConfigCaches['remediation'];
        const offered = cache.offer(
          { project: name, stage: stage.name, service: watched.service, file: path },
          version,
        );
        if (offered.status === 'invalid')
          ctx.log.warn(
            { project: key, stage: stage.name, file: path, commit: head },
            'a pushed configuration file is invalid; the last good version stays in force',
          );
        else if (offered.status === 'updated' && previous !== undefined)
          ctx.log.info({ project: key, stage: stage.name, file: path, commit: head }, 'configuration file changed');
      }
      if (previous !== undefined)
        ctx.log.info(
          { project: key, stage: stage.name, branch: stage.branch, from: previous, to: head },
          'stage branch moved',
        );
      fed.set(stage.branch, head);
    }
    return { stages };
  }

  /**
   * Stages listed in the spec still follow the remediation sequence of the project's shipyard.yaml
   * when it has one for them (`rebound migrate` prints such a Project). A missing or broken shipyard
   * leaves them without tasks: the spec's stages stand on their own.
   */
  private async addShipyardTasks(project: Project, stages: StageStatus[]): Promise<void> {
    const repository = await this.ports.repositories.storeFor(project);
    let file: Awaited<ReturnType<typeof repository.readFile>>;
    try {
      file = await repository.readFile(project.spec.git.defaultBranch ?? 'main', SHIPYARD);
    } catch (err) {
      // A repository without the default branch is fine when the spec lists the stages.
      if (err instanceof ReboundError && err.reason === REASONS.BranchNotFound) return;
      throw err;
    }
    const parsed = file ? parseShipyardFile(SHIPYARD, file.text) : undefined;
    if (!parsed?.ok) return;
    addSequences(stages, parsed.shipyard.stages);
  }
}

/**
 * Stages the spec lists follow the shipyard's remediation sequence of the same name where they
 * remediate automatically (the loop reads it from the status; `rebound plan` asks the same).
 */
export function addSequences(stages: readonly StageStatus[], shipyard: readonly ShipyardStage[]): void {
  for (const stage of stages) {
    const tasks = shipyard.find((s) => s.name === stage.name)?.remediationTasks;
    if (tasks && stage.remediation === 'automated')
      stage.remediationTasks = tasks.map(({ path: _path, ...task }) => task);
  }
}
