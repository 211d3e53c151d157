// `rebound plan --repo PATH --stage S --service SVC --problem FILE [--attempt N] [--project FILE] [--json]`
//
// What Rebound would do for a problem, without doing it: the policy source, the action, the file and
// the diff, read from the stage branch of a local Git repository. Nothing is written: the branch is
// read with isomorphic-git's object reads (resolveRef, readBlob), never checked out. With --project
// (the Project, and its Remediations and ProblemEvents as `kubectl get -o yaml` prints them), also
// what the Project's rules would do to the action now: approval, deny windows, budgets, breaker,
// computed by the loop's own functions (src/rules/explain.ts).
//
// Exit codes: 0 an action is planned, 1 no action (no policy, no matching entry, exhausted),
// 2 bad input (missing branch, unreadable or invalid file, an action that cannot become an edit).
import fs from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import git from 'isomorphic-git';
import { errorMessage, ReboundError } from '../../errors.ts';
import { parseRemediationFile } from '../../formats/remediation.ts';
import { formatDiagnostic, loadYaml } from '../../formats/yaml.ts';
import { mapProblemDocument } from '../../ingest/payloads.ts';
import type { MappedProblem } from '../../ingest/payloads.ts';
import { SCALE_RULES } from '../../remediation/value-edits.ts';
import { planRemediation, valuesFilePath } from '../../remediation/plan.ts';
import type { PlanOutcome } from '../../remediation/plan.ts';
import { describeSource, policyFilePath, policyFromFile, policyFromResource } from '../../remediation/policy.ts';
import { parseKeyPath } from '../../remediation/yaml-edit.ts';
import { APPLIERS } from '../../apply/types.ts';
import type { ApplierName } from '../../apply/types.ts';
import { describeApply } from '../../apply/describe.ts';
import { parseAllDocuments } from 'yaml';
import type { ProblemEvent, Project, Remediation } from '../../api/index.ts';
import { API_VERSION } from '../../api/index.ts';
import { findRemediationIn, resolveProjectStage } from '../../controllers/problemevent/project-lookup.ts';
import { addSequences } from '../../controllers/project/reconciler.ts';
import { parseShipyardFile } from '../../formats/shipyard.ts';
import type { ShipyardStage } from '../../formats/shipyard.ts';
import { approvalInput } from '../../rules/approvals.ts';
import { explainRules } from '../../rules/explain.ts';
import type { RulesPlan } from '../../rules/explain.ts';
import type { Command } from './command.ts';

const USAGE = `Usage: rebound plan --repo PATH --stage S --service SVC --problem FILE [--attempt N] [--apply MODE]
                    [--project FILE [--at TIME]] [--json]

Shows what Rebound would do for a problem, without doing it: the policy source, the action for
attempt N (counting from 1), the values file and the diff. PATH is a Git repository; the branch
named after the stage (or origin/<stage>) is read, nothing is written. FILE is a ProblemEvent YAML,
a Keptn CloudEvent JSON or an Alertmanager webhook payload. --apply (${APPLIERS.join(', ')}; default
helm) is the stage's apply: the plan says how the commit would go live and when the evaluation's
wait would start.

--project FILE is the Project (YAML; with its Remediations and ProblemEvents when it holds them, as
\`kubectl get project,remediations,problemevents -n NS -o yaml\` prints them): the plan then says
whether the action would wait for approval and whose answers count, which deny window is active or
opens next and whether the policy breaks the glass, and which budget or circuit breaker holds a new
attempt back, at --at (an RFC 3339 time; default now). The stage's mode and its shipyard sequence
come from the Project, or from shipyard.yaml on its default branch.

Exit codes: 0 an action is planned, 1 no action (no matching entry, exhausted), 2 bad input.`;

export const EXIT = { planned: 0, none: 1, badInput: 2 } as const;

/** Bad input: printed as `rebound plan: <message>`, exit code 2. */
class PlanInputError extends Error {}

interface PlanArgs {
  repo: string;
  stage: string;
  service: string;
  problem: string;
  attempt: number;
  apply: ApplierName;
  json: boolean;
  /** The Project file, and when to judge its rules at. */
  project?: string;
  at: Date;
}

export const command: Command = {
  summary: 'show the action, file and diff Rebound would commit for a problem (reads the stage branch, writes nothing)',
  async run(argv) {
    let args: PlanArgs | 'help';
    try {
      args = parsePlanArgs(argv);
    } catch (err) {
      process.stderr.write(`rebound plan: ${errorMessage(err)}\n\n${USAGE}\n`);
      return EXIT.badInput;
    }
    if (args === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    try {
      const { outcome, notes, rules } = await plan(args);
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
      const document = rules ? { ...outcome.json, rules } : outcome.json;
      process.stdout.write(args.json ? `${JSON.stringify(document)}\n` : renderHuman(outcome, args, rules));
      return outcome.kind === 'planned' || outcome.kind === 'handed-off'
        ? EXIT.planned
        : outcome.kind === 'none'
          ? EXIT.none
          : EXIT.badInput;
    } catch (err) {
      if (err instanceof PlanInputError || err instanceof ReboundError) {
        process.stderr.write(`rebound plan: ${err.message}\n`);
        return EXIT.badInput;
      }
      throw err;
    }
  },
};

function parsePlanArgs(argv: string[]): PlanArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      repo: { type: 'string' },
      stage: { type: 'string' },
      service: { type: 'string' },
      problem: { type: 'string' },
      attempt: { type: 'string', default: '1' },
      apply: { type: 'string', default: 'helm' },
      json: { type: 'boolean', default: false },
      project: { type: 'string' },
      at: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const missing = (['repo', 'stage', 'service', 'problem'] as const).filter((k) => !values[k]);
  if (missing.length > 0) throw new Error(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
  const attempt = Number(values.attempt);
  if (!/^\d+$/.test(values.attempt) || !Number.isSafeInteger(attempt) || attempt < 1) {
    throw new Error(`--attempt must be a whole number from 1, got "${values.attempt}"`);
  }
  const apply = APPLIERS.find((a) => a === values.apply);
  if (!apply) throw new Error(`--apply must be one of ${APPLIERS.join(', ')}, got "${values.apply}"`);
  const at = values.at === undefined ? new Date() : new Date(values.at);
  if (values.at !== undefined && (!/^\d{4}-\d\d-\d\dT/.test(values.at) || Number.isNaN(at.getTime())))
    throw new Error(`--at must be an RFC 3339 time (2026-12-04T18:30:00Z), got "${values.at}"`);
  if (values.at !== undefined && values.project === undefined) throw new Error('--at needs --project');
  return {
    apply,
    at,
    ...(values.project !== undefined ? { project: values.project } : {}),
    repo: values.repo as string,
    stage: values.stage as string,
    service: values.service as string,
    problem: values.problem as string,
    attempt,
    json: values.json,
  };
}

/** Everything `rebound plan` does, minus printing. Exported for tests. */
export async function plan(
  args: PlanArgs,
): Promise<{ outcome: PlanOutcome; problem: MappedProblem; ref: string; notes: string[]; rules?: RulesPlan }> {
  const notes: string[] = [];
  const problem = await readProblem(args, notes);
  const repo = await openRepository(args.repo);
  const { ref, commit } = await resolveStageBranch(repo, args.stage);
  if (ref !== `refs/heads/${args.stage}`) notes.push(`no local branch ${args.stage}; read ${ref}`);

  const projectFile =
    args.project === undefined ? undefined : await readProjectFile(args.project, problem.spec.project);
  // As the loop: a Remediation resource for the stage and service wins over the branch's file, and
  // names the values file and keys (rendered manifests: spec.replicas, a ConfigMap's data).
  const remediation = projectFile && remediationFor(projectFile, args);
  const policyPath = policyFilePath(args.service);
  let policy;
  if (remediation) {
    policy = policyFromResource(remediation);
    notes.push(
      `the Remediation ${remediation.metadata.name ?? ''} in ${args.project ?? ''} is the policy (it wins over ${policyPath})`,
    );
  } else {
    const policyText = await readFileAt(repo, commit, policyPath);
    if (policyText !== undefined) {
      const parsed = parseRemediationFile(policyPath, policyText);
      if (!parsed.ok) {
        throw new PlanInputError(
          `${policyPath} on branch ${args.stage} (${commit.slice(0, 8)}) is invalid:\n${parsed.diagnostics.map(formatDiagnostic).join('\n')}`,
        );
      }
      for (const warning of parsed.warnings) notes.push(formatDiagnostic(warning));
      policy = policyFromFile({ branch: args.stage, commit, path: policyPath, policy: parsed.policy });
    }
  }
  const values = remediation?.spec.values;
  const valuesFile = values?.file ?? valuesFilePath(args.service);
  const outcome = planRemediation({
    branch: args.stage,
    service: args.service,
    problem: problem.spec,
    attempt: args.attempt,
    policy,
    policyPath,
    valuesFile,
    valuesText: await readFileAt(repo, commit, valuesFile),
    ...(values?.replicaCountKey ? { replicasPath: parseKeyPath(values.replicaCountKey) } : {}),
    ...(values?.minReplicasKey ? { minReplicasPath: parseKeyPath(values.minReplicasKey) } : {}),
    ...(values?.featureFlagsKey ? { flagsPath: parseKeyPath(values.featureFlagsKey) } : {}),
    ...(remediation?.spec.limits ? { limits: remediation.spec.limits } : {}),
  });
  if (!projectFile) return { outcome, problem, ref, notes };
  const rules = await planRules(args, projectFile, repo, problem, outcome, notes);
  return { outcome, problem, ref, notes, rules };
}

/** The Project file's Remediation for the planned stage and service, as the loop finds it. */
function remediationFor(file: ProjectFile, args: PlanArgs): Remediation | undefined {
  const namespace = file.project.metadata.namespace ?? 'default';
  return findRemediationIn(file.remediations, namespace, file.project.metadata.name ?? '', args.stage, args.service);
}

interface ProjectFile {
  project: Project;
  remediations: Remediation[];
  problems: ProblemEvent[];
}

/** The Project's rules for the planned action, judged at --at with the loop's own functions. */
async function planRules(
  args: PlanArgs,
  projectFile: ProjectFile,
  repo: Repository,
  problem: MappedProblem,
  outcome: PlanOutcome,
  notes: string[],
): Promise<RulesPlan> {
  const { project, problems } = projectFile;
  const file = args.project ?? '';
  const namespace = project.metadata.namespace ?? 'default';
  const shipyard = await readShipyard(repo, project.spec.git.defaultBranch ?? 'main', notes);
  // Before its first pass the Project controller has recorded no sequence for the spec's stages: as it would.
  const withStatus: Project =
    project.status?.stages === undefined && project.spec.stages && shipyard
      ? (() => {
          const stages = project.spec.stages.map((s) => ({
            name: s.name,
            branch: s.branch ?? s.name,
            remediation: s.remediation ?? 'automated',
          }));
          addSequences(stages, shipyard);
          return { ...project, status: { ...project.status, stages } };
        })()
      : project;
  const stage = await resolveProjectStage(withStatus, args.stage, () => Promise.resolve(shipyard));
  if (!stage) throw new PlanInputError(`Project ${project.metadata.name ?? ''} has no stage ${args.stage}`);
  // The file may hold this very problem: its status counts (its actions this hour, its last result).
  const recorded = problems.find((p) => p.metadata.name === problem.name);
  const event: ProblemEvent = {
    apiVersion: API_VERSION,
    kind: 'ProblemEvent',
    metadata: { name: problem.name, namespace },
    // Planned for the asked stage and service of this Project, as the rest of the plan is.
    spec: { ...problem.spec, project: project.metadata.name ?? '', stage: args.stage, service: args.service },
    ...(recorded?.status ? { status: recorded.status } : {}),
  };
  const others = problems.filter((p) => p.metadata.name !== problem.name);
  const previous = recorded?.status?.attempts?.find((a) => a.index === args.attempt - 1);
  if (args.attempt > 1 && !previous?.result && stage.sequence?.approval)
    notes.push(
      `the shipyard's approval task is judged as after a passing get-action: ${file} holds no result of attempt ${args.attempt - 1} of ${problem.name} (after a warning evaluation its warning setting applies)`,
    );
  return explainRules({
    problem: event,
    project: withStatus,
    stage,
    action: outcome.json.action ? (outcome.json.approval ? { approval: outcome.json.approval } : {}) : undefined,
    attempt: args.attempt,
    seen: approvalInput(previous),
    remediation: remediationFor(projectFile, args),
    projectProblems: [...others, event],
    now: args.at,
  });
}

async function readProjectFile(file: string, projectName: string): Promise<ProjectFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PlanInputError(`cannot read Project file ${file}: ${errorMessage(err)}`);
  }
  const objects: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new PlanInputError(`cannot parse ${file}: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const items =
      isObject(value) && value['kind'] === 'List' && Array.isArray(value['items']) ? value['items'] : [value];
    objects.push(...(items as unknown[]));
  }
  const ours = (kind: string): Record<string, unknown>[] =>
    objects.filter(
      (o): o is Record<string, unknown> =>
        isObject(o) &&
        o['kind'] === kind &&
        o['apiVersion'] === API_VERSION &&
        isObject(o['metadata']) &&
        isObject(o['spec']),
    );
  const projects = ours('Project') as unknown as Project[];
  const project =
    projects.find((p) => p.metadata.name === projectName) ?? (projects.length === 1 ? projects[0] : undefined);
  if (!project)
    throw new PlanInputError(
      projects.length === 0
        ? `${file} holds no ${API_VERSION} Project`
        : `${file} holds no Project named ${projectName} (it holds ${projects.map((p) => p.metadata.name ?? '').join(', ')})`,
    );
  if (!isObject(project.spec.git) || typeof project.spec.git.url !== 'string')
    throw new PlanInputError(`Project ${project.metadata.name ?? ''} in ${file} has no spec.git.url`);
  return {
    project,
    remediations: ours('Remediation') as unknown as Remediation[],
    problems: (ours('ProblemEvent') as unknown as ProblemEvent[]).filter(
      (p) => p.metadata.namespace === undefined || p.metadata.namespace === project.metadata.namespace,
    ),
  };
}

/** shipyard.yaml's stages on the default branch, or undefined (no branch, no file, invalid: noted). */
async function readShipyard(repo: Repository, branch: string, notes: string[]): Promise<ShipyardStage[] | undefined> {
  let commit: string;
  try {
    commit = await git.resolveRef({ fs, gitdir: repo.gitdir, ref: branch });
  } catch {
    return undefined;
  }
  const text = await readFileAt(repo, commit, 'shipyard.yaml');
  if (text === undefined) return undefined;
  const parsed = parseShipyardFile('shipyard.yaml', text);
  if (!parsed.ok) {
    notes.push(`shipyard.yaml on ${branch} is invalid: ${parsed.diagnostics.map(formatDiagnostic).join('; ')}`);
    return undefined;
  }
  return parsed.shipyard.stages;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readProblem(args: PlanArgs, notes: string[]): Promise<MappedProblem> {
  let text: string;
  try {
    text = await readFile(args.problem, 'utf8');
  } catch (err) {
    throw new PlanInputError(`cannot read problem file ${args.problem}: ${errorMessage(err)}`);
  }
  // YAML 1.2 is a superset of JSON: one loader for ProblemEvent YAML, CloudEvent and Alertmanager JSON.
  const loaded = loadYaml(args.problem, text);
  if (!loaded.ok)
    throw new PlanInputError(`cannot parse ${args.problem}:\n${loaded.diagnostics.map(formatDiagnostic).join('\n')}`);
  let problems: MappedProblem[];
  try {
    problems = mapProblemDocument(loaded.yaml.toJS(), {
      defaults: { project: basename(resolve(args.repo)), stage: args.stage, service: args.service },
    });
  } catch (err) {
    throw new PlanInputError(`${args.problem}: ${errorMessage(err)}`);
  }
  const first = problems[0];
  if (!first) throw new PlanInputError(`${args.problem} holds no problem`);
  const forUs = problems.find((p) => p.spec.stage === args.stage && p.spec.service === args.service);
  if (problems.length > 1) {
    notes.push(
      forUs
        ? `${args.problem} holds ${problems.length} problems; using the one for ${args.service} in ${args.stage} ("${forUs.spec.problemTitle}")`
        : `${args.problem} holds ${problems.length} problems, none for ${args.service} in ${args.stage}; using the first ("${first.spec.problemTitle}")`,
    );
  } else if (!forUs) {
    notes.push(
      `the problem is for ${first.spec.service} in ${first.spec.stage}; planning for ${args.service} in ${args.stage} as asked`,
    );
  }
  const chosen = forUs ?? first;
  if (chosen.spec.state === 'RESOLVED')
    notes.push('the problem is RESOLVED: Rebound would stop its remediation instead of taking an action');
  return chosen;
}

interface Repository {
  gitdir: string;
}

/** A working tree (PATH/.git, or a .git file pointing elsewhere) or a bare repository. */
async function openRepository(path: string): Promise<Repository> {
  const dotGit = join(path, '.git');
  const info = await stat(dotGit).catch(() => undefined);
  if (info?.isDirectory()) return { gitdir: dotGit };
  if (info?.isFile()) {
    // A linked worktree (or submodule): `.git` names the real gitdir. A worktree's gitdir holds only
    // its own HEAD; branches and objects live in the common dir it points to, and that is all we read.
    const pointer = /^gitdir:\s*(.+)$/m.exec(await readFile(dotGit, 'utf8'));
    if (pointer?.[1]) {
      const gitdir = resolve(path, pointer[1].trim());
      const common = await readFile(join(gitdir, 'commondir'), 'utf8').catch(() => undefined);
      return { gitdir: common === undefined ? gitdir : resolve(gitdir, common.trim()) };
    }
  }
  const [head, objects] = await Promise.all([
    stat(join(path, 'HEAD')).catch(() => undefined),
    stat(join(path, 'objects')).catch(() => undefined),
  ]);
  if (head?.isFile() && objects?.isDirectory()) return { gitdir: path };
  throw new PlanInputError(`${path} is not a Git repository`);
}

async function resolveStageBranch(repo: Repository, stage: string): Promise<{ ref: string; commit: string }> {
  const candidates = [`refs/heads/${stage}`, `refs/remotes/origin/${stage}`];
  for (const ref of candidates) {
    try {
      return { ref, commit: await git.resolveRef({ fs, gitdir: repo.gitdir, ref }) };
    } catch (err) {
      if (!isNotFound(err)) throw new PlanInputError(`cannot read ${ref}: ${errorMessage(err)}`);
    }
  }
  const local = await git.listBranches({ fs, gitdir: repo.gitdir }).catch(() => []);
  const remote = await git.listBranches({ fs, gitdir: repo.gitdir, remote: 'origin' }).catch(() => []);
  const known = [...new Set([...local, ...remote.filter((b) => b !== 'HEAD')])].sort();
  const hint = known.length > 0 ? `; branches: ${known.join(', ')}` : '';
  throw new PlanInputError(`branch ${stage} not found (looked for ${candidates.join(' and ')})${hint}`);
}

/** The file's text at `commit`, undefined when the commit does not have it. */
async function readFileAt(repo: Repository, commit: string, filepath: string): Promise<string | undefined> {
  try {
    const { blob } = await git.readBlob({ fs, gitdir: repo.gitdir, oid: commit, filepath });
    return new TextDecoder('utf-8', { fatal: true }).decode(blob);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new PlanInputError(`cannot read ${filepath} at ${commit.slice(0, 8)}: ${errorMessage(err)}`);
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'NotFoundError';
}

function renderHuman(outcome: PlanOutcome, args: PlanArgs, rules?: RulesPlan): string {
  const { json } = outcome;
  const lines = [`Branch:   ${json.branch}`, `Policy:   ${outcome.source ? describeSource(outcome.source) : '(none)'}`];
  if (outcome.source?.problemType !== undefined)
    lines.push(`Entry:    "${outcome.source.problemType}" (matched on ${outcome.source.match ?? '?'})`);
  if (json.action) {
    lines.push(
      `Attempt:  ${args.attempt}: ${json.action.action} ${json.action.value} ("${json.action.name}")`,
      `File:     ${json.file ?? ''}`,
    );
  } else {
    lines.push(`Attempt:  ${args.attempt}: no action${json.exhausted ? ' (exhausted)' : ''}`);
  }
  if (outcome.kind === 'planned' && outcome.summary) lines.push(`Change:   ${outcome.summary}`);
  if (outcome.kind === 'planned' && outcome.change.kind === 'replicas') {
    // `scale 1` and `scaling 1` differ (a count, or one more): say which rule read the value.
    const { rule, from, requested } = outcome.change;
    const sum =
      rule === 'absolute'
        ? `${requested}`
        : `${from} ${requested >= from ? '+' : '-'} ${Math.abs(requested - from)} = ${requested}`;
    lines.push(`Rule:     ${SCALE_RULES[rule]}: ${sum}`);
  }
  if (outcome.kind === 'planned' && outcome.summary)
    lines.push(`Apply:    ${args.apply}: ${describeApply(args.apply, json.branch)}`);
  if (rules) lines.push(...renderRules(rules, args));
  else if (json.approval)
    lines.push(
      "Approval: required: the action waits for people's approval before anything is committed (so does every action of a manual stage)",
    );
  if (json.reason) lines.push(`${outcome.kind === 'invalid' ? 'Error:   ' : 'Reason:  '} ${json.reason}`);
  const text = lines.join('\n') + '\n';
  return json.diff ? `${text}\n${json.diff}` : text;
}

function renderRules(rules: RulesPlan, args: PlanArgs): string[] {
  const lines = [`Stage:    ${rules.stage.name} (remediation: ${rules.stage.remediation})`];
  const { approval } = rules;
  if (approval.waits) {
    const timeout = approval.timeout ? `; unanswered after ${approval.timeout}: ${approval.onTimeout}` : '; no timeout';
    lines.push(
      `Approval: waits: ${approval.why}`,
      `          who: ${approval.who}`,
      `          ${approval.answer}${timeout}`,
    );
  } else {
    lines.push('Approval: none: the action runs without waiting for people');
  }
  lines.push(`Window:   ${rules.window.message}`);
  const when = `at ${args.at.toISOString()}`;
  lines.push(
    rules.hold
      ? `Hold:     ${rules.hold.reason}: ${rules.hold.message}`
      : rules.window.state === 'denied'
        ? `Hold:     none ${when}: break-glass lets the attempt start inside the window`
        : `Hold:     none ${when}: no budget, circuit breaker or deny window holds a new attempt back`,
  );
  const { revertAfter, hold } = rules.after;
  lines.push(
    revertAfter
      ? `Undo:     once the problem has stayed resolved for ${revertAfter}, its changes are committed back and evaluated (revertAfter)`
      : 'Undo:     none: the remediated values stay after the problem resolves (no revertAfter)',
    hold.mode === 'reassert'
      ? `Push:     a push that sets the values back while the problem is open is committed over, at most ${String(hold.maxReasserts)} time(s) (hold: reassert)`
      : 'Push:     a push that sets the values back while the problem is open is reported, not undone (hold: warn)',
  );
  if (rules.stage.remediation === 'disabled')
    lines.push(`Note:     stage ${rules.stage.name} does not remediate: nothing would be done`);
  return lines;
}
