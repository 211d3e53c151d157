// What `rebound migrate` says about a Keptn project repository, as data: the Project resource to
// apply, and one finding per shipyard stage and task, remediation action, SLO and SLI file, each at
// its file and line, marked when Rebound behaves differently from Keptn. Pure: the command reads
// the branches and hands the texts in.
import { posix } from 'node:path';
import { ACTIONS, API_VERSION, KEPTN_TOGGLE_ACTION, KINDS } from '../../api/index.ts';
import type { Project } from '../../api/index.ts';
import { checkServiceFiles } from '../../formats/consistency.ts';
import { parseRemediationFile } from '../../formats/remediation.ts';
import type { RemediationPolicy } from '../../formats/remediation.ts';
import { parseShipyardFile } from '../../formats/shipyard.ts';
import type { ShipyardStage, ShipyardTask } from '../../formats/shipyard.ts';
import { parseSliFile, sliLocationOf } from '../../formats/sli.ts';
import { parseSloFile } from '../../formats/slo.ts';
import { loadYaml } from '../../formats/yaml.ts';
import type { Diagnostic, LocatedYaml, PathSegment } from '../../formats/yaml.ts';
import { parseScaleValue, SCALE_RULES } from '../../remediation/value-edits.ts';
import { valuesFilePath } from '../../remediation/plan.ts';
import { approvalTaskIndex, remediationSequence } from '../../controllers/problemevent/shipyard-sequence.ts';

export interface Finding {
  /** `branch:path` (or the path alone for a directory) and the line. */
  file: string;
  line: number;
  message: string;
  /** Rebound does something other than what Keptn did with this. */
  differs: boolean;
  /** The file cannot be used as it is. */
  error?: boolean;
}

export interface MigrationInput {
  /** The Keptn project's name: the Project's name and the namespaces' prefix. */
  project: string;
  /** The repository's remote, when it has one. */
  gitUrl: string | undefined;
  /** The branch holding shipyard.yaml. */
  defaultBranch: string;
  /** The default branch's files; `shipyard.yaml` among them when there is one. */
  defaultFiles: ReadonlyMap<string, string>;
  /** Each stage branch's Keptn files and values files by path; absent when the branch is missing. */
  stageFiles: (branch: string) => ReadonlyMap<string, string> | undefined;
  /** `production:` for a Git branch, empty when one directory stands for every branch. */
  prefix: (branch: string) => string;
}

export interface MigrationReport {
  project: Project;
  findings: Finding[];
}

/** The tasks Rebound's own loop is made of; anything else in a remediation sequence is extra. */

export function migrationReport(input: MigrationInput): MigrationReport {
  const findings: Finding[] = [];
  const shipyardFile = `${input.prefix(input.defaultBranch)}shipyard.yaml`;
  const shipyardText = input.defaultFiles.get('shipyard.yaml');
  let stages: ShipyardStage[] = [];
  let shipyardYaml: LocatedYaml | undefined;
  if (shipyardText === undefined) {
    findings.push({
      file: shipyardFile,
      line: 1,
      message: `no shipyard.yaml on branch ${input.defaultBranch}: list the stages in the Project's spec.stages`,
      differs: false,
      error: true,
    });
  } else {
    const parsed = parseShipyardFile(shipyardFile, shipyardText);
    const loaded = loadYaml(shipyardFile, shipyardText);
    if (!parsed.ok || !loaded.ok) {
      findings.push(...(parsed.ok ? [] : parsed.diagnostics).map((d) => fromDiagnostic(d, false, true)));
    } else {
      stages = parsed.shipyard.stages;
      shipyardYaml = loaded.yaml;
      findings.push(...parsed.warnings.map((d) => fromDiagnostic(d, false)));
    }
  }

  for (const stage of stages) {
    const at = (path: PathSegment[], message: string, differs = false): void => {
      if (shipyardYaml) findings.push({ ...located(shipyardYaml, path), message, differs });
    };
    const files = input.stageFiles(stage.name);
    if (stage.remediation !== 'automated') {
      at(
        stage.path,
        `stage "${stage.name}": no remediation sequence, so Rebound does not remediate here (remediation: disabled)`,
      );
      continue;
    }
    at(
      stage.path,
      `stage "${stage.name}": remediation automated; problems are remediated on branch ${stage.name}, released in namespace ${input.project}-${stage.name}`,
    );
    for (const task of stage.remediationTasks ?? []) reportTask(stage, task, at);
    if (!files) {
      at(
        stage.path,
        `no branch ${stage.name} in the repository: create it (Keptn kept one branch per stage) or set the stage's branch in the Project`,
        false,
      );
      continue;
    }
    findings.push(...reportStageFiles(input.prefix(stage.name), files));
  }

  return { project: projectFor(input, stages), findings };
}

function reportTask(
  stage: ShipyardStage,
  task: ShipyardTask,
  at: (path: PathSegment[], message: string, differs?: boolean) => void,
): void {
  const name = `task "${task.name}" of ${stage.name}'s remediation sequence`;
  const sequence = remediationSequence(stage.remediationTasks);
  if (task.name === 'get-action' || task.name === 'action') {
    at(task.path, `${name}: done by Rebound's loop (the action is chosen from remediation.yaml and carried out)`);
  } else if (task.name === 'evaluation') {
    const wait =
      sequence.evaluationWaitMs !== undefined
        ? `it waits triggeredAfter ${task.triggeredAfter ?? ''} after the action and the tasks before it (a Remediation's spec.evaluation.wait wins)`
        : "the wait before it is --evaluation-wait (default 2m) or a Remediation's spec.evaluation.wait";
    const window =
      sequence.timeframeMs !== undefined
        ? `; the SLI window is the timeframe ${String(task.properties?.['timeframe'])} before the evaluation`
        : '; the SLI window runs from when the action took effect';
    at(task.path, `${name}: the SLO evaluation after each action; ${wait}${window}`);
  } else if (task.name === 'approval') {
    const gate =
      stage.remediationTasks?.[approvalTaskIndex(stage.remediationTasks)] === task ? sequence.approval : undefined;
    at(
      task.path,
      gate
        ? `${name}: every action waits for people's approval (Approval objects, rebound approve) unless its setting is automatic (pass: ${gate.pass}, warning: ${gate.warning}); the warning setting applies after an evaluation that scored warning`
        : `${name}: not run: only an approval task before the action holds the action back`,
      !gate,
    );
  } else if (sequence.tasks.some((t) => t.name === task.name)) {
    at(
      task.path,
      `${name}: sent as sh.keptn.event.${task.name}.triggered to the executor at --action-sink after the action, and awaited until sh.keptn.event.${task.name}.finished (a failed task fails the attempt; --task-timeout); without --action-sink the problem stalls with NoTaskExecutor`,
    );
  } else {
    at(task.path, `${name}: not run: Rebound runs only the tasks between the action and the evaluation`, true);
  }
}

function reportStageFiles(prefix: string, files: ReadonlyMap<string, string>): Finding[] {
  const findings: Finding[] = [];
  const paths = [...files.keys()].sort();
  const sliRank = new Map<string, { rank: number; path: string }>();
  for (const path of paths) {
    const sli = posix.basename(path) === 'sli.yaml' ? sliLocationOf(path) : undefined;
    if (!sli) continue;
    const best = sliRank.get(sli.dir);
    if (best === undefined || sli.rank < best.rank) sliRank.set(sli.dir, { rank: sli.rank, path });
  }
  for (const path of paths) {
    const text = files.get(path) ?? '';
    const name = posix.basename(path);
    const display = prefix + path;
    if (name === 'remediation.yaml') findings.push(...reportRemediation(display, path, text, files));
    else if (name === 'slo.yaml') findings.push(...reportSlo(prefix, display, path, text, files, sliRank));
    else if (name === 'sli.yaml') findings.push(...reportSli(display, path, text, sliRank));
  }
  return findings;
}

function reportRemediation(display: string, path: string, text: string, files: ReadonlyMap<string, string>): Finding[] {
  const parsed = parseRemediationFile(display, text);
  const loaded = loadYaml(display, text);
  if (!parsed.ok || !loaded.ok) {
    return [
      ...(parsed.ok ? [] : parsed.diagnostics).map((d) => fromDiagnostic(d, false, true)),
      {
        file: display,
        line: 1,
        message: 'Rebound cannot use this file until the errors above are fixed (Keptn may have read parts of it)',
        differs: true,
        error: true,
      },
    ];
  }
  const findings: Finding[] = parsed.warnings.map((d) => fromDiagnostic(d, false));
  const service = posix.dirname(path);
  const valuesFile = valuesFilePath(service);
  const hasValues = files.has(valuesFile);
  const { policy } = parsed;
  const listPath: PathSegment[] = policy.format === 'legacy' ? ['remediations'] : ['spec', 'remediations'];
  const actionsKey = policy.format === 'legacy' ? 'actions' : 'actionsOnOpen';
  const root = loaded.yaml.toJS();
  policy.entries.forEach((entry, i) => {
    const entryPath = [...listPath, i];
    findings.push({
      ...located(loaded.yaml, entryPath),
      message: describeEntry(policy, entry.problemType, entry.actions.length),
      differs: policy.format === 'legacy' && entry.actions.length > 1,
    });
    entry.actions.forEach((action, j) => {
      const actionPath = [...entryPath, actionsKey, j];
      const written = writtenAction(root, actionPath) ?? action.action;
      const what = describeAction(action.action, action.value, action.valueMap, written, valuesFile, hasValues);
      findings.push({
        ...located(loaded.yaml, actionPath),
        message: `action ${j + 1} (${written}${action.value === '' ? '' : ` ${action.value}`}): ${what.message}`,
        differs: what.differs,
      });
    });
  });
  return findings;
}

function describeEntry(policy: RemediationPolicy, problemType: string, actions: number): string {
  const count = `${actions} action${actions === 1 ? '' : 's'}, tried in order, one per failed evaluation`;
  if (policy.format === 'legacy') {
    const first = actions > 1 ? '; Keptn 0.5/0.6 only ever ran the first' : '';
    return `entry "${problemType}": matches problem titles starting with it (Keptn 0.5/0.6); ${count}${first}`;
  }
  if (problemType === 'default') return `entry "default": problems no other entry matches; ${count}`;
  return `entry "${problemType}": matches a problem whose rootCause, else problemTitle, is exactly "${problemType}"; ${count}`;
}

function describeAction(
  action: string,
  value: string,
  valueMap: Record<string, unknown> | undefined,
  written: string,
  valuesFile: string,
  hasValues: boolean,
): { message: string; differs: boolean } {
  const noValues = hasValues
    ? ''
    : `; there is no ${valuesFile} on this branch: the action stalls with ValuesFileNotFound until there is`;
  if (action === ACTIONS.scale || action === ACTIONS.scaling) {
    const scale = parseScaleValue(value, action);
    const rule = SCALE_RULES[scale.mode === 'absolute' ? 'absolute' : scale.rule];
    const target =
      scale.mode === 'absolute'
        ? `sets replicaCount to ${scale.replicas}`
        : `changes replicaCount by ${scale.delta > 0 ? '+' : ''}${scale.delta}`;
    return {
      message: `commits a change of ${valuesFile} that ${target} (${rule}), then applies it with helm upgrade${noValues}`,
      differs: !hasValues,
    };
  }
  if (action === ACTIONS.featuretoggle) {
    const how = `commits featureFlags ${value} to ${valuesFile} (also switched in Unleash when the Project names Unleash as its feature-flag provider)${noValues}`;
    if (written === KEPTN_TOGGLE_ACTION)
      return {
        message: `Keptn's unleash-service carried this out; Rebound reads it as featuretoggle and ${how}`,
        differs: true,
      };
    return { message: how, differs: !hasValues };
  }
  const value_ = valueMap ? ' with its map value unchanged' : value === '' ? ' with an empty value' : '';
  return {
    message: `not built in: sent as sh.keptn.event.action.triggered${value_} to the executor at --action-sink, as Keptn sent it; without --action-sink the problem stalls with UnknownAction`,
    differs: false,
  };
}

function reportSlo(
  prefix: string,
  display: string,
  path: string,
  text: string,
  files: ReadonlyMap<string, string>,
  sliRank: ReadonlyMap<string, { path: string }>,
): Finding[] {
  const parsed = parseSloFile(display, text);
  if (!parsed.ok) return parsed.diagnostics.map((d) => fromDiagnostic(d, false, true));
  const dir = posix.dirname(path);
  const sli = sliRank.get(dir);
  const objectives = parsed.slo.objectives.length;
  const findings: Finding[] = [
    {
      file: display,
      line: 1,
      message: `evaluated after each action with lighthouse's scoring: ${objectives} objective${objectives === 1 ? '' : 's'}, queries from ${sli ? prefix + sli.path : 'no SLI file'}`,
      differs: false,
    },
    ...parsed.slo.warnings.map((d) => fromDiagnostic(d, false)),
  ];
  const sliText = sli ? files.get(sli.path) : undefined;
  const consistency = checkServiceFiles({
    slo: { path: display, text },
    ...(sli && sliText !== undefined ? { sli: { path: prefix + sli.path, text: sliText } } : {}),
  });
  findings.push(...consistency.map((d) => fromDiagnostic(d, false)));
  return findings;
}

function reportSli(
  display: string,
  path: string,
  text: string,
  sliRank: ReadonlyMap<string, { path: string }>,
): Finding[] {
  const parsed = parseSliFile(display, text);
  if (!parsed.ok) return parsed.diagnostics.map((d) => fromDiagnostic(d, false, true));
  const location = sliLocationOf(path);
  const chosen = location ? sliRank.get(location.dir) : undefined;
  const count = Object.keys(parsed.sli.indicators).length;
  if (chosen && chosen.path !== path) {
    return [
      {
        file: display,
        line: 1,
        message: `not used: ${chosen.path} comes first (Rebound reads one SLI file per service; Keptn merged project, stage and service levels of one provider)`,
        differs: true,
      },
    ];
  }
  if (path.endsWith('dynatrace/sli.yaml')) {
    return [
      {
        file: display,
        line: 1,
        message: `${count} Dynatrace queries: Rebound sends SLI queries to Prometheus only, so these return no values until they are rewritten in PromQL`,
        differs: true,
      },
    ];
  }
  return [
    {
      file: display,
      line: 1,
      message: `${count} quer${count === 1 ? 'y' : 'ies'} sent to Prometheus (--prometheus-url or a Remediation's spec.evaluation.prometheusURL) with Keptn's placeholders`,
      differs: false,
    },
  ];
}

function projectFor(input: MigrationInput, stages: readonly ShipyardStage[]): Project {
  return {
    apiVersion: API_VERSION,
    kind: KINDS.Project,
    metadata: { name: input.project },
    spec: {
      git: {
        url: input.gitUrl ?? `https://git.example.com/${input.project}.git`,
        secretRef: { name: `${input.project}-git` },
        defaultBranch: input.defaultBranch,
      },
      stages: stages.map((s) => ({
        name: s.name,
        branch: s.name,
        namespace: `${input.project}-${s.name}`,
        remediation: s.remediation === 'automated' ? 'automated' : 'disabled',
        apply: 'helm',
      })),
    },
  };
}

/** The action name as written in the file (`toggle-feature` before it was read as featuretoggle). */
function writtenAction(root: unknown, path: PathSegment[]): string | undefined {
  let node: unknown = root;
  for (const segment of [...path, 'action']) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return typeof node === 'string' ? node : undefined;
}

function located(yaml: LocatedYaml, path: PathSegment[]): { file: string; line: number } {
  const d = yaml.diagnosticAt(path, '');
  return { file: d.file, line: d.line };
}

function fromDiagnostic(d: Diagnostic, differs: boolean, error = false): Finding {
  return { file: d.file, line: d.line, message: d.message, differs, ...(error ? { error } : {}) };
}
