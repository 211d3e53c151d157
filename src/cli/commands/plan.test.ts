// `rebound plan` end to end: the real CLI (bin/rebound.js, a child process) against real Git
// repositories built with the native git CLI in a temporary directory.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../../bin/rebound.js', import.meta.url));
const valuesFixture = readFileSync(new URL('../../../test/fixtures/values/commented.yaml', import.meta.url), 'utf8');

const policy = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: Response time degradation
      actionsOnOpen:
        - action: scale
          name: scale up
          description: Scale up
          value: "+1"
        - action: featuretoggle
          name: cache on
          value: EnableItemCache:on
    - problemType: disk_full
      actionsOnOpen:
        - action: scale
          name: two replicas
          value: "2"
`;

const legacyPolicy = `remediations:
- name: "Failure rate increase"
  actions:
  - action: featuretoggle
    value: EnablePromotion:off
`;

const renderedManifests = readFileSync(
  new URL('../../../test/fixtures/values/rendered-manifests.yaml', import.meta.url),
  'utf8',
);

let root: string;
let repo: string;
let problems: Record<string, string>;
let productionHead: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-C', cwd, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    },
  }).trim();
}

function write(dir: string, path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function plan(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bin, 'plan', ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`rebound plan did not run: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

const forCarts = (problem: string, ...rest: string[]) =>
  plan(
    '--repo',
    repo,
    '--stage',
    'production',
    '--service',
    'carts',
    '--problem',
    problems[problem] as string,
    ...rest,
  );

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rebound-plan-'));
  repo = join(root, 'sockshop');
  mkdirSync(repo);
  git(repo, 'init', '-q', '-b', 'main');
  write(
    repo,
    'shipyard.yaml',
    'apiVersion: spec.keptn.sh/0.2.2\nkind: Shipyard\nmetadata:\n  name: sockshop\nspec:\n  stages:\n    - name: production\n',
  );
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'shipyard');
  git(repo, 'checkout', '-q', '-b', 'production');
  write(repo, 'carts/values.yaml', valuesFixture);
  write(repo, 'carts/remediation.yaml', policy);
  write(repo, 'orders/values.yaml', 'replicaCount: 1\n');
  write(repo, 'orders/remediation.yaml', legacyPolicy);
  // Keptn 0.6's tutorial policy: helm-service added a scaling value to the replicas.
  write(
    repo,
    'catalogue/remediation.yaml',
    'remediations:\n- name: Failure rate increase\n  actions:\n  - action: scaling\n    value: "1"\n',
  );
  write(repo, 'catalogue/values.yaml', 'replicaCount: 3\n');
  write(repo, 'broken/remediation.yaml', 'remediations:\n- name: x\n  actions:\n  - action: webhook\n    value: now\n');
  write(repo, 'broken/values.yaml', 'replicaCount: 1\n');
  write(repo, 'novalues/remediation.yaml', policy);
  write(repo, 'novalues/values.yaml', 'image:\n  tag: "1"\n');
  // carts rendered to plain manifests for kustomize or Flux: a Remediation names this file and its keys.
  write(repo, 'carts/manifests/carts.yaml', renderedManifests);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'policies and values');
  productionHead = git(repo, 'rev-parse', 'HEAD');
  // The working tree is left on main: plan must read the branch without checking it out.
  git(repo, 'checkout', '-q', 'main');

  const dir = join(root, 'problems');
  mkdirSync(dir);
  problems = {
    cloudevent: join(dir, 'remediation_trigger.json'),
    manifest: join(dir, 'problem.yaml'),
    alertmanager: join(dir, 'alertmanager.json'),
    unknown: join(dir, 'unknown.json'),
    legacy: join(dir, 'legacy.json'),
    garbage: join(dir, 'garbage.json'),
  };
  const cloudEvent = (title: string) =>
    JSON.stringify({
      type: 'sh.keptn.event.production.remediation.triggered',
      specversion: '1.0',
      source: 'https://github.com/keptn/keptn/fake-problem',
      id: 'f2b878d3-03c0-4e8f-bc3f-454bc1b3d79d',
      contenttype: 'application/json',
      data: { project: 'sockshop', stage: 'production', service: 'carts', problem: { problemTitle: title } },
    });
  writeFileSync(problems['cloudevent'] as string, cloudEvent('Response time degradation'));
  writeFileSync(problems['unknown'] as string, cloudEvent('Out of memory'));
  writeFileSync(problems['legacy'] as string, cloudEvent('Failure rate increase on orders'));
  writeFileSync(
    problems['manifest'] as string,
    [
      'apiVersion: rebound.dev/v1alpha1',
      'kind: ProblemEvent',
      'metadata:',
      '  name: carts-disk',
      'spec:',
      '  project: sockshop',
      '  stage: production',
      '  service: carts',
      '  problemTitle: Response time degradation',
      '  rootCause: disk_full',
      '  state: OPEN',
      '',
    ].join('\n'),
  );
  const alert = (service: string, alertname: string) => ({
    status: 'firing',
    labels: { alertname, project: 'sockshop', stage: 'production', service },
    annotations: {},
    startsAt: '2026-11-22T04:00:00Z',
    fingerprint: `fp-${service}`,
  });
  writeFileSync(
    problems['alertmanager'] as string,
    JSON.stringify({
      version: '4',
      status: 'firing',
      receiver: 'rebound',
      groupKey: '{}:{}',
      alerts: [alert('orders', 'Failure rate increase'), alert('carts', 'Response time degradation')],
    }),
  );
  writeFileSync(problems['garbage'] as string, '{"hello": "world"}');
}, 60_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

// Each case spawns the CLI; on a loaded two-core machine that can take seconds.
describe('rebound plan', { timeout: 60_000 }, () => {
  it('plans attempt 1 from a Keptn CloudEvent and prints exactly the docs/design.md document', async () => {
    const run = await forCarts('cloudevent', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      source: `production@${productionHead}:carts/remediation.yaml`,
      branch: 'production',
      file: 'carts/values.yaml',
      action: { name: 'scale up', action: 'scale', value: '+1' },
      exhausted: false,
      reason: null,
      approval: null,
      diff: [
        '--- a/carts/values.yaml',
        '+++ b/carts/values.yaml',
        '@@ -1,7 +1,7 @@',
        ' # Default values for carts.',
        ' # This is a YAML-formatted file.',
        ' ',
        '-replicaCount: 1   # scaled by Rebound',
        '+replicaCount: 2   # scaled by Rebound',
        ' ',
        ' image:',
        '   repository: docker.io/keptnexamples/carts',
        '',
      ].join('\n'),
    });
    expect(Object.keys(JSON.parse(run.stdout) as object)).toEqual([
      'source',
      'branch',
      'file',
      'action',
      'exhausted',
      'reason',
      'diff',
      'approval',
    ]);
  });

  it('produces a diff that git applies to the branch', async () => {
    const run = await forCarts('cloudevent', '--json', '--attempt', '2');
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { action: { action: string }; diff: string };
    expect(doc.action.action).toBe('featuretoggle');
    const check = join(root, 'check');
    git(root, 'clone', '-q', '--branch', 'production', repo, check);
    writeFileSync(join(check, 'plan.diff'), doc.diff);
    git(check, 'apply', 'plan.diff');
    expect(git(check, 'diff', '--numstat')).toBe('1\t1\tcarts/values.yaml');
    expect(readFileSync(join(check, 'carts/values.yaml'), 'utf8')).toBe(
      valuesFixture.replace('EnableItemCache: false', 'EnableItemCache: true'),
    );
  });

  it('exits 1 with exhausted when the attempt is past the last action', async () => {
    const run = await forCarts('cloudevent', '--json', '--attempt', '3');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      action: null,
      exhausted: true,
      file: null,
      diff: null,
      reason:
        'there is no action 3 for problem title "Response time degradation": entry "Response time degradation" has 2 actions',
    });
  });

  it('exits 1 with a reason when no entry matches', async () => {
    const run = await forCarts('unknown', '--json');
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      source: `production@${productionHead}:carts/remediation.yaml`,
      action: null,
      exhausted: false,
      reason:
        'unable to find action for problem title "Out of memory": no entry matches and there is no "default" entry',
    });
  });

  it('matches a ProblemEvent YAML on its rootCause first', async () => {
    const run = await forCarts('manifest', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ action: { name: 'two replicas', value: '2' }, reason: null });
  });

  it('takes the alert for the asked service from an Alertmanager payload, and says so', async () => {
    const run = await forCarts('alertmanager', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ action: { name: 'scale up' } });
    expect(run.stderr).toContain(
      'holds 2 problems; using the one for carts in production ("Response time degradation")',
    );
  });

  it('reads the legacy format with prefix matching', async () => {
    const run = await plan(
      '--repo',
      repo,
      '--stage',
      'production',
      '--service',
      'orders',
      '--problem',
      problems['legacy'] as string,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Change:   featureFlags.EnablePromotion added as false (off)');
    expect(run.stdout).toContain('+featureFlags:\n+  EnablePromotion: false\n');
  });

  it("adds a scaling value to the replicas, as Keptn's helm-service did, and says which rule applied", async () => {
    const run = await plan(
      '--repo',
      repo,
      '--stage',
      'production',
      '--service',
      'catalogue',
      '--problem',
      problems['legacy'] as string,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Attempt:  1: scaling 1 ("scaling")\n');
    expect(run.stdout).toContain('Change:   replicaCount 3 → 4\n');
    expect(run.stdout).toContain(
      "Rule:     scaling adds its value to the replica count (Keptn's helm-service did; write scale to set a count): 3 + 1 = 4\n",
    );
  });

  it('prints the plan readably without --json', async () => {
    const run = await forCarts('cloudevent');
    expect(run.code).toBe(0);
    expect(
      run.stdout.startsWith(
        [
          'Branch:   production',
          `Policy:   production@${productionHead}:carts/remediation.yaml`,
          'Entry:    "Response time degradation" (matched on problemTitle)',
          'Attempt:  1: scale +1 ("scale up")',
          'File:     carts/values.yaml',
          'Change:   replicaCount 1 → 2',
          'Rule:     a signed value changes the replica count by that much: 1 + 1 = 2',
          "Apply:    helm: helm upgrade of the service's release with the chart and values at the commit; the evaluation's wait starts when it finishes",
          '',
          '--- a/carts/values.yaml',
        ].join('\n') + '\n',
      ),
    ).toBe(true);
    expect(run.stdout).toContain('-replicaCount: 1   # scaled by Rebound\n+replicaCount: 2   # scaled by Rebound\n');
  });

  it("says how a flux stage's commit goes live, and refuses an unknown applier", async () => {
    const run = await forCarts('cloudevent', '--apply', 'flux');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "Apply:    flux: Flux is asked to reconcile the Kustomizations tracking production (reconcile.fluxcd.io/requestedAt); the evaluation's wait starts when Flux reports the commit as applied\n",
    );
    const bad = await forCarts('cloudevent', '--apply', 'argo');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--apply must be one of helm, kubernetes, flux, argocd, none, got "argo"');
  });

  it('reads a stage branch that exists only as origin/<stage> in a clone', async () => {
    const clone = join(root, 'clone');
    git(root, 'clone', '-q', '--branch', 'main', repo, clone);
    expect(git(clone, 'branch', '--list', 'production')).toBe('');
    const run = await plan(
      '--repo',
      clone,
      '--stage',
      'production',
      '--service',
      'carts',
      '--problem',
      problems['cloudevent'] as string,
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ branch: 'production', action: { name: 'scale up' } });
    expect(run.stderr).toContain('no local branch production; read refs/remotes/origin/production');
  });

  it('reads bare repositories and linked worktrees', async () => {
    const bare = join(root, 'bare.git');
    git(root, 'clone', '-q', '--bare', repo, bare);
    const fromBare = await plan(
      '--repo',
      bare,
      '--stage',
      'production',
      '--service',
      'carts',
      '--problem',
      problems['cloudevent'] as string,
      '--json',
    );
    expect(fromBare.code, fromBare.stderr).toBe(0);
    expect(JSON.parse(fromBare.stdout)).toMatchObject({
      source: `production@${productionHead}:carts/remediation.yaml`,
    });

    const worktree = join(root, 'worktree');
    git(repo, 'worktree', 'add', '-q', '--detach', worktree, 'main');
    try {
      const fromWorktree = await plan(
        '--repo',
        worktree,
        '--stage',
        'production',
        '--service',
        'carts',
        '--problem',
        problems['cloudevent'] as string,
        '--json',
      );
      expect(fromWorktree.code, fromWorktree.stderr).toBe(0);
      expect(JSON.parse(fromWorktree.stdout)).toMatchObject({ action: { name: 'scale up' } });
    } finally {
      git(repo, 'worktree', 'remove', '--force', worktree);
    }
  });

  it('writes nothing to the repository', async () => {
    const before = {
      refs: git(repo, 'for-each-ref'),
      head: git(repo, 'symbolic-ref', 'HEAD'),
      objects: git(repo, 'count-objects', '-v'),
      status: git(repo, 'status', '--porcelain'),
    };
    await forCarts('cloudevent', '--json');
    expect({
      refs: git(repo, 'for-each-ref'),
      head: git(repo, 'symbolic-ref', 'HEAD'),
      objects: git(repo, 'count-objects', '-v'),
      status: git(repo, 'status', '--porcelain'),
    }).toEqual(before);
    expect(before.head).toBe('refs/heads/main');
    expect(before.status).toBe('');
  });

  it('exits 2 for bad input', async () => {
    const missingBranch = await plan(
      '--repo',
      repo,
      '--stage',
      'staging',
      '--service',
      'carts',
      '--problem',
      problems['cloudevent'] as string,
    );
    expect(missingBranch).toMatchObject({ code: 2, stdout: '' });
    expect(missingBranch.stderr).toBe(
      'rebound plan: branch staging not found (looked for refs/heads/staging and refs/remotes/origin/staging); branches: main, production\n',
    );

    const broken = await plan(
      '--repo',
      repo,
      '--stage',
      'production',
      '--service',
      'broken',
      '--problem',
      problems['cloudevent'] as string,
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      /broken\/remediation\.yaml on branch production \([0-9a-f]{8}\) is invalid:\nbroken\/remediation\.yaml:4:\d+: /,
    );

    const garbage = await forCarts('garbage');
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('not a recognised problem payload');

    const notRepo = await plan(
      '--repo',
      root,
      '--stage',
      'production',
      '--service',
      'carts',
      '--problem',
      problems['cloudevent'] as string,
    );
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toBe(`rebound plan: ${root} is not a Git repository\n`);

    const badAttempt = await forCarts('cloudevent', '--attempt', '0');
    expect(badAttempt.code).toBe(2);
    expect(badAttempt.stderr).toContain('--attempt must be a whole number from 1, got "0"');
  });

  it('exits 2 and names the key when the values file cannot take the action', async () => {
    const run = await plan(
      '--repo',
      repo,
      '--stage',
      'production',
      '--service',
      'novalues',
      '--problem',
      problems['cloudevent'] as string,
      '--json',
    );
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({
      file: 'novalues/values.yaml',
      action: { action: 'scale' },
      diff: null,
      reason:
        'novalues/values.yaml:1:1: novalues/values.yaml has no replicaCount; add it (for example "replicaCount: 1") so Rebound can scale the service',
    });
  });

  it('exits 1 when the service has no policy on the branch', async () => {
    const run = await plan(
      '--repo',
      repo,
      '--stage',
      'production',
      '--service',
      'payment',
      '--problem',
      problems['cloudevent'] as string,
      '--json',
    );
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      source: null,
      branch: 'production',
      file: null,
      action: null,
      exhausted: false,
      reason: 'no remediation policy: payment/remediation.yaml does not exist on branch production',
      diff: null,
      approval: null,
    });
  });
});

// --project: what the Project's rules would do to the planned action (src/rules/explain.ts).
describe('rebound plan --project', { timeout: 60_000 }, () => {
  const SATURDAY = '2026-11-21T12:00:00Z';
  const WEDNESDAY = '2026-11-18T12:00:00Z';
  const projectYaml = (spec: string, items = ''): string =>
    [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: rebound.dev/v1alpha1',
      '  kind: Project',
      '  metadata: {name: sockshop, namespace: sockshop}',
      '  spec:',
      '    git: {url: "http://git.example/sockshop.git"}',
      ...spec.split('\n').map((l) => `    ${l}`),
      items,
    ].join('\n');
  const weekendRules = [
    'stages: [{name: production, remediation: manual}]',
    'approval: {minApprovals: 2, groups: [sre], timeout: 1h}',
    'windows: [{name: weekend, schedule: "0 18 * * fri", duration: 60h}]',
    'budgets: {maxInFlight: 1}',
  ].join('\n');
  const inFlight = [
    '- apiVersion: rebound.dev/v1alpha1',
    '  kind: ProblemEvent',
    '  metadata: {name: orders-slow, namespace: sockshop}',
    '  spec: {project: sockshop, stage: production, service: orders, problemTitle: slow, state: OPEN}',
    '  status: {phase: Remediating}',
  ].join('\n');
  const breakGlass = [
    '- apiVersion: rebound.dev/v1alpha1',
    '  kind: Remediation',
    '  metadata: {name: carts, namespace: sockshop}',
    '  spec:',
    '    project: sockshop',
    '    stage: production',
    '    service: carts',
    '    remediations:',
    '    - problemType: Response time degradation',
    '      actionsOnOpen: [{name: s, action: scale, value: "+1"}]',
    '      breakGlass: {}',
  ].join('\n');
  let files: string;
  const projectFile = (name: string, text: string): string => {
    const path = join(files, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(() => {
    files = mkdtempSync(join(tmpdir(), 'rebound-plan-project-'));
  });
  afterAll(() => {
    rmSync(files, { recursive: true, force: true });
  });

  it('says who must approve, that the weekend window holds it back until when, and what opens next', async () => {
    const file = projectFile('weekend.yaml', projectYaml(weekendRules));
    const run = await forCarts('cloudevent', '--project', file, '--at', SATURDAY, '--json');
    expect(run.code, run.stderr).toBe(0);
    const document = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(document['action']).toEqual({ name: 'scale up', action: 'scale', value: '+1' });
    expect(document['rules']).toEqual({
      stage: { name: 'production', remediation: 'manual' },
      approval: {
        waits: true,
        why: 'stage production is manual: every action waits for approval',
        mode: 'approvals',
        minApprovals: 2,
        groups: ['sre'],
        timeout: '1h',
        onTimeout: 'Unhandled',
        who: 'people RBAC lets create Approvals in namespace sockshop (ClusterRole rebound-approver), counted only when in sre',
        answer: expect.stringMatching(
          /^0 of 2 approval\(s\) from members of sre: rebound approve \S+ -n sockshop --attempt 1 \(or rebound reject\)$/,
        ) as unknown,
      },
      window: {
        state: 'denied',
        window: 'weekend',
        since: '2026-11-20T18:00:00.000Z',
        until: '2026-11-23T06:00:00.000Z',
        breakGlass: null,
        next: { window: 'weekend', opens: '2026-11-27T18:00:00.000Z', closes: '2026-11-30T06:00:00.000Z' },
        message:
          'deny window weekend is active (since 2026-11-20T18:00:00.000Z, until 2026-11-23T06:00:00.000Z): automated actions wait; next deny window weekend opens 2026-11-27T18:00:00.000Z and closes 2026-11-30T06:00:00.000Z',
      },
      hold: {
        reason: 'DenyWindow',
        message:
          'deny window weekend (since 2026-11-20T18:00:00.000Z, until 2026-11-23T06:00:00.000Z) holds automated actions back in stage production',
        until: '2026-11-23T06:00:00.000Z',
      },
      after: { revertAfter: null, hold: { mode: 'warn', maxReasserts: 3 } },
    });
  });

  it('a budget holds it back before the window, and a break-glass entry lets it through the window', async () => {
    const file = projectFile('budget.yaml', projectYaml(weekendRules, `${inFlight}\n${breakGlass}`));
    const held = JSON.parse((await forCarts('cloudevent', '--project', file, '--at', SATURDAY, '--json')).stdout) as {
      rules: { hold: unknown; window: { breakGlass: string } };
    };
    expect(held.rules.hold).toEqual({
      reason: 'InFlightLimitReached',
      message: 'budgets.maxInFlight: 1 of 1 remediation(s) in flight in Project sockshop; waiting until one finishes',
      until: null,
    });
    expect(held.rules.window.breakGlass).toBe(
      'break-glass by entry "Response time degradation" of Remediation carts (every problem it matches)',
    );

    const glass = projectFile('glass.yaml', projectYaml(weekendRules, breakGlass));
    const run = await forCarts('cloudevent', '--project', glass, '--at', SATURDAY);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      [
        'Stage:    production (remediation: manual)',
        'Approval: waits: stage production is manual: every action waits for approval',
        '          who: people RBAC lets create Approvals in namespace sockshop (ClusterRole rebound-approver), counted only when in sre',
        '          0 of 2 approval(s) from members of sre: rebound',
      ].join('\n'),
    );
    expect(run.stdout).toContain('Window:   deny window weekend is active (since 2026-11-20T18:00:00.000Z');
    expect(run.stdout).toContain(
      'but break-glass by entry "Response time degradation" of Remediation carts (every problem it matches) lets it through',
    );
    expect(run.stdout).toContain(
      `Hold:     none at ${new Date(SATURDAY).toISOString()}: break-glass lets the attempt start inside the window`,
    );
  });

  it('says when the changes are undone and what a push that sets them back meets', async () => {
    const undo = breakGlass
      .replace('      breakGlass: {}', '      revertAfter: 30m')
      .concat('\n    hold: {mode: reassert, maxReasserts: 2}');
    const file = projectFile('undo.yaml', projectYaml(weekendRules, undo));
    const run = await forCarts('cloudevent', '--project', file, '--at', WEDNESDAY);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      [
        'Undo:     once the problem has stayed resolved for 30m, its changes are committed back and evaluated (revertAfter)',
        'Push:     a push that sets the values back while the problem is open is committed over, at most 2 time(s) (hold: reassert)',
      ].join('\n'),
    );
    const json = JSON.parse((await forCarts('cloudevent', '--project', file, '--at', WEDNESDAY, '--json')).stdout) as {
      rules: { after: unknown };
    };
    expect(json.rules.after).toEqual({ revertAfter: '30m', hold: { mode: 'reassert', maxReasserts: 2 } });
  });

  it("plans from the Project file's Remediation, in the values file and keys it names", async () => {
    const manifests = [
      '- apiVersion: rebound.dev/v1alpha1',
      '  kind: Remediation',
      '  metadata: {name: carts-manifests, namespace: sockshop}',
      '  spec:',
      '    project: sockshop',
      '    stage: production',
      '    service: carts',
      '    remediations:',
      '    - problemType: Response time degradation',
      '      actionsOnOpen:',
      '      - {name: promotion off, action: featuretoggle, value: "EnablePromotion:off"}',
      '    values: {file: carts/manifests/carts.yaml, replicaCountKey: spec.replicas, featureFlagsKey: data}',
    ].join('\n');
    const file = projectFile('manifests.yaml', projectYaml('stages: [{name: production}]', manifests));
    const run = await forCarts('cloudevent', '--project', file, '--at', WEDNESDAY, '--json');
    expect(run.code, run.stderr).toBe(0);
    const document = JSON.parse(run.stdout) as { source: string; file: string; action: unknown; diff: string };
    expect(document.source).toBe('Remediation carts-manifests');
    expect(document.file).toBe('carts/manifests/carts.yaml');
    expect(document.action).toEqual({ name: 'promotion off', action: 'featuretoggle', value: 'EnablePromotion:off' });
    expect(document.diff).toContain('-  EnablePromotion: "true"\n+  EnablePromotion: "false"');
  });

  it('on a weekday nothing holds it back and the readable plan says when the window opens', async () => {
    const file = projectFile(
      'weekday.yaml',
      projectYaml('windows: [{name: weekend, schedule: "0 18 * * fri", duration: 60h, timeZone: Europe/Berlin}]'),
    );
    const run = await forCarts('cloudevent', '--project', file, '--at', WEDNESDAY);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      [
        'Stage:    production (remediation: disabled)',
        'Approval: none: the action runs without waiting for people',
        'Window:   no deny window is active; next deny window weekend opens 2026-11-20T17:00:00.000Z and closes 2026-11-23T05:00:00.000Z',
        `Hold:     none at ${new Date(WEDNESDAY).toISOString()}: no budget, circuit breaker or deny window holds a new attempt back`,
        'Undo:     none: the remediated values stay after the problem resolves (no revertAfter)',
        'Push:     a push that sets the values back while the problem is open is reported, not undone (hold: warn)',
        'Note:     stage production does not remediate: nothing would be done',
      ].join('\n'),
    );
  });

  it("reads the shipyard's approval task when the Project takes its stages from shipyard.yaml", async () => {
    const gated = join(root, 'gated');
    mkdirSync(gated);
    git(gated, 'init', '-q', '-b', 'main');
    write(
      gated,
      'shipyard.yaml',
      [
        'apiVersion: spec.keptn.sh/0.2.2',
        'kind: Shipyard',
        'metadata: {name: gated}',
        'spec:',
        '  stages:',
        '    - name: production',
        '      sequences:',
        '        - name: remediation',
        '          tasks:',
        '            - name: get-action',
        '            - name: approval',
        '              properties: {pass: manual, warning: automatic}',
        '            - name: action',
        '            - name: evaluation',
        '',
      ].join('\n'),
    );
    git(gated, 'add', '.');
    git(gated, 'commit', '-q', '-m', 'shipyard');
    git(gated, 'checkout', '-q', '-b', 'production');
    write(gated, 'carts/values.yaml', 'replicaCount: 1\n');
    write(gated, 'carts/remediation.yaml', policy);
    git(gated, 'add', '.');
    git(gated, 'commit', '-q', '-m', 'carts');
    const file = projectFile('shipyard-stages.yaml', projectYaml('approval: {mode: merge}'));
    const run = await plan(
      '--repo',
      gated,
      '--stage',
      'production',
      '--service',
      'carts',
      '--problem',
      problems['cloudevent'] as string,
      '--project',
      file,
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const rules = (JSON.parse(run.stdout) as { rules: { stage: unknown; approval: unknown } }).rules;
    expect(rules.stage).toEqual({ name: 'production', remediation: 'automated' });
    expect(rules.approval).toMatchObject({
      waits: true,
      why: 'the remediation sequence of stage production has an approval task (pass: manual)',
      mode: 'merge',
      answer: expect.stringMatching(/^merge the proposal branch rebound\/\S+\/1 into production/) as unknown,
    });

    // Attempt 2 after a warning evaluation, as the file records it: the warning setting (automatic) applies.
    const name = /rebound\/(\S+)\/1/.exec(String((rules.approval as { answer?: string }).answer))?.[1] ?? '';
    expect(name).toMatch(/^[a-z0-9-]+$/);
    const afterWarning = projectFile(
      'after-warning.yaml',
      projectYaml(
        'approval: {mode: merge}',
        [
          '- apiVersion: rebound.dev/v1alpha1',
          '  kind: ProblemEvent',
          `  metadata: {name: ${name}, namespace: sockshop}`,
          '  spec: {project: sockshop, stage: production, service: carts, problemTitle: Response time degradation, state: OPEN}',
          '  status:',
          '    phase: Remediating',
          '    attempts: [{index: 1, action: scale, value: "+1", result: warning}]',
        ].join('\n'),
      ),
    );
    const second = await plan(
      '--repo',
      gated,
      '--stage',
      'production',
      '--service',
      'carts',
      '--problem',
      problems['cloudevent'] as string,
      '--attempt',
      '2',
      '--project',
      afterWarning,
      '--json',
    );
    expect(second.stderr).not.toContain('judged as after a passing get-action');
    expect((JSON.parse(second.stdout) as { rules: { approval: unknown } }).rules.approval).toEqual({ waits: false });
  });

  it('exits 2 for a missing Project, a bad --at, and --at without --project', async () => {
    const empty = projectFile('empty.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    const none = await forCarts('cloudevent', '--project', empty);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`rebound plan: ${empty} holds no rebound.dev/v1alpha1 Project\n`);
    const badAt = await forCarts('cloudevent', '--project', empty, '--at', 'saturday');
    expect(badAt.code).toBe(2);
    expect(badAt.stderr).toContain('--at must be an RFC 3339 time (2026-12-04T18:30:00Z), got "saturday"');
    const alone = await forCarts('cloudevent', '--at', SATURDAY);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--at needs --project');
    const noStage = projectFile('nostage.yaml', projectYaml('stages: [{name: staging}]'));
    const missing = await forCarts('cloudevent', '--project', noStage);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('rebound plan: Project sockshop has no stage production\n');
  });
});
