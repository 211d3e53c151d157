// `rebound migrate` on Git repositories in Keptn's layout, built with the git CLI from the examples/
// configuration repositories (shipyard.yaml on main, the service directories on every stage branch)
// and from a project written the way older Keptn tutorials wrote theirs.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { migrate } from './migrate.ts';
import type { Finding } from './migrate-report.ts';

const bin = fileURLToPath(new URL('../../../bin/rebound.js', import.meta.url));
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

let root: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Keptn',
      GIT_AUTHOR_EMAIL: 'keptn@keptn.sh',
      GIT_COMMITTER_NAME: 'Keptn',
      GIT_COMMITTER_EMAIL: 'keptn@keptn.sh',
    },
  }).trim();
}

function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

/** A Keptn project repository: shipyard.yaml on main, `files` on each stage branch. */
function keptnRepo(name: string, shipyard: string, stages: Record<string, (dir: string) => void>): string {
  const repo = join(root, name);
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  write(repo, 'shipyard.yaml', shipyard);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'shipyard');
  for (const [stage, fill] of Object.entries(stages)) {
    git(repo, 'checkout', '-q', '-b', stage, 'main');
    fill(repo);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', `${stage} resources`);
  }
  git(repo, 'checkout', '-q', 'main');
  return repo;
}

function copyExample(example: string, service: string): (dir: string) => void {
  return (dir) => cpSync(join(examples, example, service), join(dir, service), { recursive: true });
}

function lines(findings: Finding[]): string[] {
  return findings.map(
    (f) => `${f.file}:${String(f.line)}: ${f.error ? 'ERROR: ' : f.differs ? 'DIFFERS: ' : ''}${f.message}`,
  );
}

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [bin, 'migrate', ...args],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new Error(`rebound migrate did not run: ${err.message}`, { cause: err }));
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

const shipyardOf = (example: string): string => readFileSync(join(examples, example, 'shipyard.yaml'), 'utf8');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rebound-migrate-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('rebound migrate', { timeout: 60_000 }, () => {
  it('prints a Project kubectl can take and a report on examples/sockshop, reading every stage branch', async () => {
    const repo = keptnRepo('sockshop', shipyardOf('sockshop'), {
      dev: copyExample('sockshop', 'carts'),
      staging: copyExample('sockshop', 'carts'),
      production: copyExample('sockshop', 'carts'),
    });
    git(repo, 'remote', 'add', 'origin', 'https://keptn:s3cret-token@git.example.com/team/sockshop.git');
    const result = await run('--repo', repo);
    expect(result.code, result.stderr).toBe(0);
    const docs = parseAllDocuments(result.stdout);
    expect(docs).toHaveLength(1);
    expect(result.stdout).not.toContain('s3cret-token');
    expect(docs[0]?.toJS()).toEqual({
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: 'sockshop' },
      spec: {
        git: {
          url: 'https://git.example.com/team/sockshop.git',
          secretRef: { name: 'sockshop-git' },
          defaultBranch: 'main',
        },
        stages: [
          { name: 'dev', branch: 'dev', namespace: 'sockshop-dev', remediation: 'disabled', apply: 'helm' },
          { name: 'staging', branch: 'staging', namespace: 'sockshop-staging', remediation: 'disabled', apply: 'helm' },
          {
            name: 'production',
            branch: 'production',
            namespace: 'sockshop-production',
            remediation: 'automated',
            apply: 'helm',
          },
        ],
      },
    });
    const report = result.stdout.split('\n').filter((l) => l.startsWith('# production:'));
    expect(report).toContain(
      '# production:carts/remediation.yaml:12: action 1 (scale +1): commits a change of carts/values.yaml that changes replicaCount by +1 (a signed value changes the replica count by that much), then applies it with helm upgrade',
    );
    expect(report).toContain(
      "# production:carts/slo.yaml:1: evaluated after each action with lighthouse's scoring: 2 objectives, queries from production:carts/sli.yaml",
    );
    // Only stages that remediate are reported file by file.
    expect(result.stdout).not.toContain('# dev:carts/');
  });

  it('reads examples/fulltour: the je-test task between the action and the evaluation is reported at its line', async () => {
    const repo = keptnRepo('fulltour', shipyardOf('fulltour'), {
      qa: copyExample('fulltour', 'helloservice'),
      production: copyExample('fulltour', 'helloservice'),
    });
    const report = await migrate(repo, undefined);
    expect(lines(report.findings)).toEqual(
      expect.arrayContaining([
        'main:shipyard.yaml:41: task "je-test" of production\'s remediation sequence: sent as sh.keptn.event.je-test.triggered to the executor at --action-sink after the action, and awaited until sh.keptn.event.je-test.finished (a failed task fails the attempt; --task-timeout); without --action-sink the problem stalls with NoTaskExecutor',
        'main:shipyard.yaml:42: task "evaluation" of production\'s remediation sequence: the SLO evaluation after each action; the wait before it is --evaluation-wait (default 2m) or a Remediation\'s spec.evaluation.wait; the SLI window is the timeframe 2m before the evaluation',
        'production:helloservice/remediation.yaml:11: action 1 (scale 2): commits a change of helloservice/values.yaml that sets replicaCount to 2 (scale with an unsigned value sets the replica count to it), then applies it with helm upgrade',
      ]),
    );
    expect(report.findings.some((f) => f.error)).toBe(false);
    // The sequence's tasks are what Rebound does, as Keptn did: nothing about them DIFFERS.
    expect(report.findings.filter((f) => f.differs && f.file === 'main:shipyard.yaml').map((f) => f.message)).toEqual(
      [],
    );
  });

  it('an approval task before the action is reported as holding the action for people, at its line', async () => {
    const action = '            - name: "action"\n';
    const gated = shipyardOf('fulltour').replace(
      action,
      `            - name: "approval"\n              properties:\n                pass: "automatic"\n${action}`,
    );
    const repo = keptnRepo('fulltour-gated', gated, { production: copyExample('fulltour', 'helloservice') });
    const report = await migrate(repo, undefined);
    expect(lines(report.findings)).toContain(
      'main:shipyard.yaml:40: task "approval" of production\'s remediation sequence: every action waits for people\'s approval (Approval objects, rebound approve) unless its setting is automatic (pass: automatic, warning: manual); the warning setting applies after an evaluation that scored warning',
    );
    expect(report.findings.filter((f) => f.differs && f.file === 'main:shipyard.yaml').map((f) => f.message)).toEqual(
      [],
    );
  });

  it('reads examples/keptn-0.6 (0.1 shipyard, legacy remediation file) under the name given', async () => {
    const repo = keptnRepo('keptn06', shipyardOf('keptn-0.6'), { production: copyExample('keptn-0.6', 'carts') });
    const report = await migrate(repo, 'sockshop');
    expect(report.project.spec.stages?.map((s) => [s.name, s.remediation])).toEqual([
      ['dev', 'disabled'],
      ['staging', 'disabled'],
      ['production', 'automated'],
    ]);
    expect(lines(report.findings)).toEqual(
      expect.arrayContaining([
        'production:carts/remediation.yaml:3: entry "response_time_p90": matches problem titles starting with it (Keptn 0.5/0.6); 1 action, tried in order, one per failed evaluation',
        'production:carts/remediation.yaml:5: action 1 (scaling +1): commits a change of carts/values.yaml that changes replicaCount by +1 (a signed value changes the replica count by that much), then applies it with helm upgrade',
      ]),
    );
  });

  it('reports what behaves differently from Keptn, each at its file and line, and exits 1 on a broken file', async () => {
    // The remediation sequence's last tasks, as an approval and an evaluation that waits.
    const fulltour = shipyardOf('fulltour');
    const tail =
      '            - name: "je-test"\n            - name: "evaluation"\n              properties:\n                timeframe: "2m"\n';
    expect(fulltour.endsWith(tail)).toBe(true);
    const shipyard = `${fulltour.slice(0, -tail.length)}            - name: "approval"\n            - name: "evaluation"\n              triggeredAfter: "5m"\n`;
    const repo = keptnRepo('unleash', shipyard, {
      production: (dir) => {
        write(
          dir,
          'carts/remediation.yaml',
          [
            'apiVersion: spec.keptn.sh/0.1.4',
            'kind: Remediation',
            'metadata:',
            '  name: carts-remediation',
            'spec:',
            '  remediations:',
            '    - problemType: Failure rate increase',
            '      actionsOnOpen:',
            '        - action: toggle-feature',
            '          name: Toogle feature flag',
            '          value:',
            '            EnableItemCache: "on"',
            '        - action: restart',
            '    - problemType: default',
            '      actionsOnOpen:',
            '        - action: scaling',
            '          value: "1"',
            '',
          ].join('\n'),
        );
        write(
          dir,
          'carts/slo.yaml',
          'spec_version: "1.0"\nobjectives:\n  - sli: error_rate\ntotal_score:\n  pass: "90%"\n',
        );
        write(
          dir,
          'carts/prometheus/sli.yaml',
          'spec_version: "1.0"\nindicators:\n  error_rate: rate(errors[$DURATION_SECONDS])\n',
        );
        write(
          dir,
          'carts/dynatrace/sli.yaml',
          'spec_version: "1.0"\nindicators:\n  error_rate: metricSelector=builtin:service.errors.total.rate\n',
        );
        write(
          dir,
          'orders/remediation.yaml',
          'remediations:\n- name: x\n  actions:\n  - action: scale\n    value: lots\n',
        );
      },
    });
    const result = await run('--repo', repo, '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { findings: Finding[] };
    expect(lines(report.findings)).toEqual(
      expect.arrayContaining([
        'main:shipyard.yaml:40: task "action" of production\'s remediation sequence: done by Rebound\'s loop (the action is chosen from remediation.yaml and carried out)',
        'main:shipyard.yaml:41: DIFFERS: task "approval" of production\'s remediation sequence: not run: only an approval task before the action holds the action back',
        'main:shipyard.yaml:42: task "evaluation" of production\'s remediation sequence: the SLO evaluation after each action; it waits triggeredAfter 5m after the action and the tasks before it (a Remediation\'s spec.evaluation.wait wins); the SLI window runs from when the action took effect',
        "production:carts/remediation.yaml:9: DIFFERS: action 1 (toggle-feature EnableItemCache:on): Keptn's unleash-service carried this out; Rebound reads it as featuretoggle and commits featureFlags EnableItemCache:on to carts/values.yaml (also switched in Unleash when the Project names Unleash as its feature-flag provider); there is no carts/values.yaml on this branch: the action stalls with ValuesFileNotFound until there is",
        'production:carts/remediation.yaml:13: action 2 (restart): not built in: sent as sh.keptn.event.action.triggered with an empty value to the executor at --action-sink, as Keptn sent it; without --action-sink the problem stalls with UnknownAction',
        "production:carts/remediation.yaml:16: DIFFERS: action 1 (scaling 1): commits a change of carts/values.yaml that changes replicaCount by +1 (scaling adds its value to the replica count (Keptn's helm-service did; write scale to set a count)), then applies it with helm upgrade; there is no carts/values.yaml on this branch: the action stalls with ValuesFileNotFound until there is",
        "production:carts/slo.yaml:1: evaluated after each action with lighthouse's scoring: 1 objective, queries from production:carts/prometheus/sli.yaml",
        "production:carts/prometheus/sli.yaml:1: 1 query sent to Prometheus (--prometheus-url or a Remediation's spec.evaluation.prometheusURL) with Keptn's placeholders",
        'production:carts/dynatrace/sli.yaml:1: DIFFERS: not used: carts/prometheus/sli.yaml comes first (Rebound reads one SLI file per service; Keptn merged project, stage and service levels of one provider)',
        'production:orders/remediation.yaml:5: ERROR: scale value "lots" must be N, +N or -N (replicas, e.g. "2" or "+1")',
      ]),
    );
  });

  it('reads a plain directory as every stage branch, and refuses what is not a directory', async () => {
    const report = await migrate(join(examples, 'sockshop'), undefined);
    expect(report.project.metadata.name).toBe('sockshop');
    expect(lines(report.findings)).toContain(
      'carts/remediation.yaml:10: entry "Response time degradation": matches a problem whose rootCause, else problemTitle, is exactly "Response time degradation"; 2 actions, tried in order, one per failed evaluation',
    );
    const missing = await run('--repo', join(root, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('is not a directory');
  });
});
