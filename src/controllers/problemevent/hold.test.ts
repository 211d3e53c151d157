// Holds over in-memory ports: a push that sets a remediated value back while the problem waits for
// its evaluation is noticed, reported (warn) or put back (reassert), and the re-asserts are bounded.
// The same parts run against a real Git server in test/integration/holds.test.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ProblemEvent, ProblemEventStatus, Project, Remediation } from '../../api/index.ts';
import { CONDITION_TYPES, REASONS } from '../../api/index.ts';
import { actionRegistry } from '../../actions/registry.ts';
import { BackgroundActions } from '../../actions/runner.ts';
import { FeatureToggleAction, ScaleAction } from '../../actions/values.ts';
import type { ValuesActionOptions } from '../../actions/values.ts';
import type { Applier, ApplyRequest } from '../../apply/index.ts';
import { ReboundError } from '../../errors.ts';
import type { ReconcileContext } from '../../runtime/controller.ts';
import type { BranchPathHistory, CommitRequest, StageRepository } from '../../remediation/stage.ts';
import type { ProblemLoopPorts } from './ports.ts';
import { ProblemEventReconciler } from './reconciler.ts';

const BEFORE = 'replicaCount: 1 # keep\nimage:\n  tag: 0.1.0\n';
const REBOUND = 'a'.repeat(40);
const PERSON = 'b'.repeat(40);

interface Commit {
  sha: string;
  text: string;
  author: string;
  rebound?: { uid: string; attempt: number; reasserts?: string };
}

class World {
  now = new Date('2026-12-03T12:00:00Z');
  /** The stage branch, oldest first: the base, Rebound's attempt, then whatever is pushed. */
  branch: Commit[] = [
    { sha: 'c'.repeat(40), text: BEFORE, author: 'Dev <dev@example.com>' },
    {
      sha: REBOUND,
      text: BEFORE.replace('replicaCount: 1', 'replicaCount: 2'),
      author: 'Rebound <rebound@example.invalid>',
      rebound: { uid: 'uid-1', attempt: 1 },
    },
  ];
  /** What the Project's branch watch saw last. */
  watched = REBOUND;
  remediation: Remediation | undefined;
  events: string[] = [];
  applied: ApplyRequest[] = [];
  commitError: Error | undefined;
  historyReads = 0;
  /** What the metrics were told of broken holds. */
  broken: string[] = [];
  problem: ProblemEvent = {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'ProblemEvent',
    metadata: { name: 'p1', namespace: 'sockshop', uid: 'uid-1', generation: 1 },
    spec: { project: 'sockshop', stage: 'production', service: 'carts', problemTitle: 'slow', state: 'OPEN' },
    status: {
      phase: 'Evaluating',
      currentAttempt: 1,
      // Evaluation in ten minutes: the problem stays open while people push.
      nextEvaluationTime: '2026-12-03T12:10:00Z',
      attempts: [
        {
          index: 1,
          action: 'scale',
          value: '+1',
          branch: 'production',
          commit: REBOUND,
          path: 'carts/values.yaml',
          committedTime: '2026-12-03T11:59:00Z',
          appliedTime: '2026-12-03T11:59:01Z',
        },
      ],
    },
  };

  push(text: string, author = 'Deploy Pipeline <ci@example.com>', sha = PERSON): void {
    this.branch.push({ sha, text, author });
    this.watched = sha;
  }

  head(): Commit {
    return this.branch.at(-1) as Commit;
  }

  repository: StageRepository = {
    commitAction: (req: CommitRequest) => {
      if (this.commitError) return Promise.reject(this.commitError);
      const found = this.branch.find(
        (c) =>
          c.rebound?.uid === req.problem.uid &&
          c.rebound.reasserts === req.notes?.reasserts &&
          c.rebound.attempt === req.attempt,
      );
      if (found) return Promise.resolve({ kind: 'already-committed', sha: found.sha });
      const edit = req.edit(this.head().text);
      if ('unchanged' in edit)
        return Promise.resolve({ kind: 'no-change', sha: this.head().sha, reason: edit.unchanged });
      const sha = `r${this.branch.length}`.padEnd(40, '0');
      this.branch.push({
        sha,
        text: edit.text,
        author: 'Rebound <rebound@example.invalid>',
        rebound: {
          uid: req.problem.uid,
          attempt: req.attempt,
          ...(req.notes?.reasserts ? { reasserts: req.notes.reasserts } : {}),
        },
      });
      return Promise.resolve({ kind: 'committed', sha });
    },
    pathHistory: (_branch, since): Promise<BranchPathHistory> => {
      this.historyReads++;
      const at = this.branch.findIndex((c) => c.sha === since);
      const changes = this.branch
        .slice(at + 1)
        .map((c, i) => ({
          sha: c.sha,
          parent: this.branch[at + i]?.sha ?? '',
          author: c.author,
          ...(c.rebound ? { rebound: c.rebound } : {}),
        }))
        .reverse();
      return Promise.resolve({ head: this.head().sha, found: at >= 0, base: this.branch[at - 1]?.sha ?? '', changes });
    },
    readFileAt: (commit) => Promise.resolve(this.branch.find((c) => c.sha === commit)?.text),
    readFileAtHead: () => Promise.resolve({ commit: this.head().sha, text: this.head().text }),
    readFileAtKnownHead: () => Promise.resolve({ commit: this.head().sha, text: this.head().text }),
    materialize: () => Promise.resolve(),
    contains: () => Promise.resolve(true),
  };

  applier: Applier = {
    name: 'kubernetes',
    apply: (request) => {
      this.applied.push(request);
      return Promise.resolve({ applier: 'kubernetes', detail: `replicas ${String(request.replicas)}` });
    },
  };

  project(): Project {
    return {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: 'sockshop', namespace: 'sockshop' },
      spec: { git: { url: 'http://127.0.0.1/x.git' } },
      status: {
        stages: [
          {
            name: 'production',
            branch: 'production',
            namespace: 'sockshop-production',
            remediation: 'automated',
            apply: 'kubernetes',
            commit: this.watched,
          },
        ],
      },
    };
  }

  ports(): ProblemLoopPorts {
    const options: ValuesActionOptions = {
      appliers: {
        kubernetes: this.applier,
        helm: this.applier,
        flux: this.applier,
        argocd: this.applier,
        none: this.applier,
      },
      workDir: '/tmp/rebound-hold-test',
      secrets: { readSecret: () => Promise.resolve(undefined) },
    };
    const unused = (): never => {
      throw new Error('not used by holds');
    };
    return {
      clock: () => this.now,
      cache: { get: () => this.problem, siblings: () => [this.problem], inProject: () => [this.problem] },
      turns: {
        claim: () => Promise.resolve({ held: true }),
        release: () => Promise.resolve(),
        forget: () => Promise.resolve(),
      },
      approvals: { forAttempt: () => [] },
      writer: {
        patchStatus: (p, status: ProblemEventStatus) => {
          this.problem = { ...p, status: structuredClone(status) };
          return Promise.resolve(this.problem);
        },
        recordEvent: (_p, type, reason, message) => {
          this.events.push(`${type} ${reason}: ${message}`);
          return Promise.resolve();
        },
        annotate: unused,
      },
      projects: {
        getProject: () => this.project(),
        resolveStage: (_p, name) =>
          Promise.resolve({
            name,
            branch: 'production',
            namespace: 'sockshop-production',
            remediation: 'automated' as const,
            apply: 'kubernetes' as const,
          }),
        findRemediation: () => this.remediation,
      },
      policies: { resolve: unused, evaluationWait: () => '10m' },
      repositories: { forProject: () => Promise.resolve(this.repository) },
      actions: actionRegistry({
        scale: new ScaleAction(options),
        featuretoggle: new FeatureToggleAction(options),
        webhook: { executor: 'webhook', background: true, check: () => ({ ok: true }), run: unused },
      }),
      background: new BackgroundActions(() => undefined),
      evaluator: { evaluate: unused },
      sync: { check: unused },
      metrics: { attempt: () => undefined, holdBroken: (reason) => void this.broken.push(reason) },
      settings: { turnPollMs: 1000, evaluationRetryMs: 30_000, stalledRecheckMs: 300_000, syncPollMs: 2_000 },
    };
  }

  hold(mode: 'warn' | 'reassert', maxReasserts?: number): void {
    this.remediation = {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Remediation',
      metadata: { name: 'carts', namespace: 'sockshop' },
      spec: {
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        remediations: [{ problemType: 'default', actionsOnOpen: [{ name: 'scale up', action: 'scale', value: '+1' }] }],
        hold: { mode, ...(maxReasserts === undefined ? {} : { maxReasserts }) },
      },
    };
  }

  async step(): Promise<number | undefined> {
    const ctx: ReconcileContext = {
      log: pino({ level: 'silent' }),
      reconcileId: 'r',
      signal: new AbortController().signal,
    };
    const result = await new ProblemEventReconciler(this.ports()).reconcile('sockshop/p1', ctx);
    return result?.requeueAfterMs;
  }

  condition(): { status: string; reason: string; message: string } | undefined {
    return this.problem.status?.conditions?.find((c) => c.type === CONDITION_TYPES.HoldBroken);
  }
}

const RESET = (w: World): string =>
  w.head().text.replace('replicaCount: 2', 'replicaCount: 1').replace('0.1.0', '0.2.0');

describe('holds', () => {
  it('reads nothing while the branch watch saw no new head, and waits for the evaluation', async () => {
    const w = new World();
    expect(await w.step()).toBe(10 * 60_000);
    expect(w.historyReads).toBe(0);
    expect(w.condition()).toBeUndefined();
  });

  it('warn (the default): names the commit and its author, commits nothing, and tells once per head', async () => {
    const w = new World();
    w.push(RESET(w));
    expect(await w.step()).toBe(10 * 60_000);
    const condition = w.condition();
    expect(condition?.status).toBe('True');
    expect(condition?.reason).toBe(REASONS.HoldWarned);
    expect(condition?.message).toBe(
      `commit ${PERSON.slice(0, 12)} by Deploy Pipeline <ci@example.com> set back replicaCount: 2 → 1 in carts/values.yaml; the policy (hold: warn) only warns, nothing is committed`,
    );
    expect(w.problem.status?.hold).toMatchObject({
      checkedCommit: PERSON,
      brokenBy: { commit: PERSON, author: 'Deploy Pipeline <ci@example.com>', keys: ['replicaCount: 2 → 1'] },
    });
    expect(w.events).toEqual([`Warning HoldBroken: ${condition?.message ?? ''}`]);
    expect(w.broken).toEqual([REASONS.HoldWarned]);
    expect(w.branch).toHaveLength(3);
    // The phase and the evaluation's wait are untouched.
    expect(w.problem.status?.phase).toBe('Evaluating');
    await w.step();
    expect(w.events).toHaveLength(1);
  });

  it('holds while a resolved problem waits to revert, and not once the revert is committed', async () => {
    const w = new World();
    const { nextEvaluationTime: _due, ...open } = w.problem.status ?? {};
    const resolved = { ...open, phase: 'Reverting' as const };
    w.problem.status = { ...resolved, revert: { state: 'Waiting', dueTime: '2026-12-03T12:30:00Z' } };
    w.push(RESET(w));
    expect(await w.step()).toBe(30 * 60_000);
    expect(w.condition()?.reason).toBe(REASONS.HoldWarned);
    expect(w.problem.status?.phase).toBe('Reverting');
    expect(w.events).toHaveLength(1);

    const later = new World();
    later.problem.status = {
      ...resolved,
      revert: { state: 'Applied', appliedTime: '2026-12-03T11:59:30Z' },
      nextEvaluationTime: '2026-12-03T12:05:00Z',
    };
    later.push(RESET(later));
    await later.step();
    expect(later.historyReads).toBe(0);
    expect(later.condition()).toBeUndefined();
  });

  it('names the push that set the value back, not a later one that changed something else', async () => {
    const w = new World();
    w.push(RESET(w));
    w.push(w.head().text.replace('0.2.0', '0.3.0'), 'Dev <dev@example.com>', 'd'.repeat(40));
    await w.step();
    expect(w.problem.status?.hold?.brokenBy).toMatchObject({
      commit: PERSON,
      author: 'Deploy Pipeline <ci@example.com>',
    });
    expect(w.problem.status?.hold?.checkedCommit).toBe('d'.repeat(40));
  });

  it("commits that leave the values file alone (other services' in a storm) walk no history and write nothing", async () => {
    const w = new World();
    w.push(w.head().text, 'Rebound <rebound@example.invalid>', 'd'.repeat(40));
    w.push(w.head().text, 'Rebound <rebound@example.invalid>', 'e'.repeat(40));
    const before = w.problem;
    expect(await w.step()).toBe(10 * 60_000);
    expect(w.historyReads).toBe(0);
    expect(w.problem).toBe(before);
    expect(w.condition()).toBeUndefined();
  });

  it('a push that changes only other values breaks no hold', async () => {
    const w = new World();
    w.push(w.head().text.replace('0.1.0', '0.2.0'));
    await w.step();
    expect(w.condition()).toBeUndefined();
    expect(w.events).toEqual([]);
    expect(w.problem.status?.hold?.checkedCommit).toBe(PERSON);
  });

  it('reassert: commits the value again with Rebound-Reasserts, applies it, and counts it', async () => {
    const w = new World();
    w.hold('reassert');
    w.push(RESET(w));
    await w.step();
    const ours = w.head();
    expect(ours.rebound).toEqual({ uid: 'uid-1', attempt: 1, reasserts: PERSON });
    // The person's other change (the image tag) stays; only the value Rebound wrote is put back.
    expect(ours.text).toBe('replicaCount: 2 # keep\nimage:\n  tag: 0.2.0\n');
    expect(w.applied.map((a) => [a.commit, a.replicas])).toEqual([[ours.sha, 2]]);
    expect(w.condition()?.reason).toBe(REASONS.HoldReasserted);
    expect(w.condition()?.message).toContain(
      `Rebound committed them again (${ours.sha.slice(0, 12)}, re-assert 1 of at most 3)`,
    );
    expect(w.problem.status?.hold).toMatchObject({
      reasserts: 1,
      checkedCommit: ours.sha,
      brokenBy: { reassertCommit: ours.sha },
    });
    // The watch then sees Rebound's own commit: nothing more to do.
    w.watched = ours.sha;
    await w.step();
    expect(w.events).toHaveLength(1);
    expect(w.branch).toHaveLength(4);
  });

  it('a hold that would fight a person forever is bounded: after maxReasserts it only warns', async () => {
    const w = new World();
    w.hold('reassert', 2);
    for (let round = 1; round <= 3; round++) {
      w.push(RESET(w), 'Ann <ann@example.com>', `${'d'.repeat(39)}${round}`);
      await w.step();
    }
    expect(w.branch.filter((c) => c.rebound?.reasserts)).toHaveLength(2);
    expect(w.problem.status?.hold?.reasserts).toBe(2);
    const condition = w.condition();
    expect(condition?.reason).toBe(REASONS.ReassertLimitReached);
    expect(condition?.message).toContain('by Ann <ann@example.com> set back replicaCount: 2 → 1');
    expect(condition?.message).toContain('put its values back 2 time(s), the most hold.maxReasserts allows');
    expect(w.head().author).toBe('Ann <ann@example.com>');
  });

  it('a person putting the value back clears the condition', async () => {
    const w = new World();
    w.push(RESET(w));
    await w.step();
    w.push(w.head().text.replace('replicaCount: 1', 'replicaCount: 2'), 'Ann <ann@example.com>', 'e'.repeat(40));
    await w.step();
    expect(w.condition()).toMatchObject({ status: 'False', reason: REASONS.HoldRestored });
  });

  it('a push that cannot be answered is retried (network) or reported (a file Rebound cannot edit)', async () => {
    const w = new World();
    w.hold('reassert');
    w.push(RESET(w));
    w.commitError = new ReboundError('push rejected', { code: 'PushFailed', reason: 'CommitFailed', retryable: true });
    await expect(w.step()).rejects.toThrow('push rejected');
    w.commitError = undefined;
    await w.step();
    expect(w.condition()?.reason).toBe(REASONS.HoldReasserted);
    expect(w.problem.status?.hold?.reasserts).toBe(1);
  });
});
