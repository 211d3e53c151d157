// The demo as `make demo` runs it (node dev/demo/main.ts): a child process that starts its own cluster, Git server, Prometheus,
// Alertmanager and controller, fires one alert and narrates the loop. The tests hold it to its word:
// exit 0, a timeline that escalates and resolves, and no process left behind, also after Ctrl-C.
//
// "Left behind" is checked by an environment marker rather than by process group: the demo starts
// every server in a process group of its own (so a Ctrl-C on the terminal reaches only the demo), and
// an orphan would be re-parented; but every descendant inherits the environment.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toolsDir } from '../harness/tools.ts';
import { REPO_ROOT } from '../harness/world.ts';

const MARKER = 'REBOUND_DEMO_TEST_MARKER';

interface DemoRun {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  marker: string;
}

/** Runs the demo to its end; `onOutput` may signal it (e.g. Ctrl-C once a line appears). */
function runDemo(
  args: string[],
  onOutput?: (stdout: string, pid: number) => void,
  env: NodeJS.ProcessEnv = {},
): Promise<DemoRun> {
  const marker = randomBytes(8).toString('hex');
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dev', 'demo', 'main.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, [MARKER]: marker },
    // Its own process group, as in a terminal: the test can signal it like a Ctrl-C does.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (child.pid !== undefined) onOutput?.(stdout, child.pid);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ pid: child.pid ?? 0, code, signal, stdout, stderr, marker }));
  });
}

/** Processes whose environment carries the run's marker: everything the demo started, at any depth. */
async function processesWithMarker(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(`${MARKER}=${marker}`)) {
      found.push(`${pid}: ${(await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')).replaceAll('\0', ' ')}`);
    }
  }
  return found;
}

/**
 * Whether a process of the group still runs. A zombie (state Z) has exited: it only waits for whoever
 * inherited it to collect its status, which a sandbox's PID 1 may never do.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  return (await groupMembers(pgid)).some((member) => member.split(' ')[1] !== 'Z');
}

/** What is left in a process group, for a failure message: `pid state command` per process. */
async function groupMembers(pgid: number): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid)
      found.push(
        `${pid} ${fields[0] ?? '?'} ${(await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '')).replaceAll('\0', ' ')}`,
      );
  }
  return found;
}

/** The lines of `text` that contain each of `fragments`, which must appear in this order. */
function expectInOrder(text: string, fragments: string[]): void {
  let from = 0;
  for (const fragment of fragments) {
    const at = text.indexOf(fragment, from);
    expect(at, `"${fragment}" after position ${String(from)} in:\n${text}`).toBeGreaterThanOrEqual(0);
    from = at + fragment.length;
  }
}

/**
 * With a GitOps engine: each "<reported> <sha>" line names the commit Rebound made just before it,
 * and the demo left nothing running.
 */
async function expectEachCommitReported(run: Awaited<ReturnType<typeof runDemo>>, reported: string): Promise<void> {
  const commits = [...run.stdout.matchAll(/committed .*?: ([0-9a-f]{12}) on production/g)].map((m) => m[1]);
  const shas = [...run.stdout.matchAll(new RegExp(`${reported} ([0-9a-f]{12})`, 'g'))].map((m) => m[1]);
  expect(shas, run.stdout).toEqual(commits);
  expect(await groupAlive(run.pid), (await groupMembers(run.pid)).join('\n')).toBe(false);
  expect(await processesWithMarker(run.marker)).toEqual([]);
}

describe('make demo', () => {
  it('resolves the alert by escalating from scale to the feature flag, prints the git log, exits 0 and leaves nothing running', async () => {
    const run = await runDemo([]);
    const output = `${run.stdout}\n--- stderr ---\n${run.stderr}`;
    expect(run.code, output).toBe(0);
    expectInOrder(run.stdout, [
      'Kubernetes cluster',
      'rebound controller',
      'Alertmanager',
      'answers in 900 ms at p95',
      'alert fired',
      'received',
      '"Response time degradation" from alertmanager',
      'action 1 of 2 committed',
      'scale +1',
      '-replicaCount: 1',
      '+replicaCount: 2',
      'applied',
      'release revision 2',
      'rolled out',
      '2/2 pods Ready',
      'evaluated',
      'fail',
      'response_time_p95 = 636',
      'escalated',
      'action 2 of 2 committed',
      'featuretoggle EnablePromotion:off',
      '-  EnablePromotion: true',
      '+  EnablePromotion: false',
      'applied',
      'release revision 3',
      'rolled out',
      'evaluated',
      'pass, score 100%: response_time_p95 = 212',
      'resolved',
      'EvaluationPassed',
      '$ kubectl get pods -n sockshop-dev',
      '$ kubectl get pods -n sockshop-staging',
      '$ kubectl get pods -n sockshop-production',
      '$ git log production',
      'rebound: turn EnablePromotion off for carts in production',
      'Rebound-Attempt: 2',
      'Rebound-Action: featuretoggle EnablePromotion:off',
      'rebound: scale carts in production to 2 replicas',
      'Rebound-Attempt: 1',
      'Rebound-Action: scale +1',
      'Resolved in',
      'Stopped everything',
    ]);
    // The pods: two Running carts pods in production after the remediation, dev and staging still one.
    const podsOf = (stage: string): string[] => {
      const section = run.stdout.split(`$ kubectl get pods -n sockshop-${stage}\n`)[1]?.split('\n$ ')[0] ?? '';
      return section.split('\n').filter((l) => /^\s+carts-\S+\s+1\/1\s+Running\s/.test(l));
    };
    expect(podsOf('production'), run.stdout).toHaveLength(2);
    expect(podsOf('staging'), run.stdout).toHaveLength(1);
    expect(podsOf('dev'), run.stdout).toHaveLength(1);
    // Each action was committed once: two Rebound commits, no more.
    expect(run.stdout.match(/^ {6}Rebound-Problem: sockshop\/am-carts-[0-9a-f]{12} [0-9a-f-]{36}$/gm)).toHaveLength(2);
    expect(await groupAlive(run.pid), (await groupMembers(run.pid)).join('\n')).toBe(false);
    expect(await processesWithMarker(run.marker)).toEqual([]);
  }, 240_000);

  it('--gitops argocd: Argo CD syncs each commit, the timeline says so, and the loop resolves the same way', async () => {
    const run = await runDemo(['--gitops', 'argocd']);
    const output = `${run.stdout}\n--- stderr ---\n${run.stderr}`;
    expect(run.code, output).toBe(0);
    expectInOrder(run.stdout, [
      'synced by Argo CD, judged by SLOs',
      'Argo CD',
      'Application argocd/carts-production renders carts/chart from production: Synced, Healthy',
      'alert fired',
      'action 1 of 2 committed',
      '+replicaCount: 2',
      'applied',
      'synced by Argo CD at',
      'rolled out',
      'evaluated',
      'fail',
      'action 2 of 2 committed',
      '+  EnablePromotion: false',
      'applied',
      'synced by Argo CD at',
      'evaluated',
      'pass, score 100%',
      'resolved',
      'Resolved in',
      'Stopped everything',
    ]);
    expect(run.stdout).not.toContain('helm upgrade: release revision');
    await expectEachCommitReported(run, 'synced by Argo CD at');
  }, 300_000);

  it('--gitops flux: Flux applies the rendered manifests Rebound edits, and the loop resolves the same way', async () => {
    const run = await runDemo(['--gitops', 'flux']);
    const output = `${run.stdout}\n--- stderr ---\n${run.stderr}`;
    expect(run.code, output).toBe(0);
    expectInOrder(run.stdout, [
      'applied by Flux, judged by SLOs',
      'its chart rendered to carts/manifests/carts.yaml (helm template) for Flux',
      'Remediation sockshop/carts-production',
      'Flux',
      'Kustomization flux-system/carts-production applies carts/manifests from production: Ready',
      'Policy (Remediation carts-production, entries from carts/remediation.yaml)',
      'alert fired',
      'action 1 of 2 committed',
      'on production (carts/manifests/carts.yaml)',
      '-  replicas: 1',
      '+  replicas: 2',
      'applied by Flux at',
      'rolled out',
      'evaluated',
      'fail',
      'action 2 of 2 committed',
      '-  EnablePromotion: "true"',
      '+  EnablePromotion: "false"',
      // The pod template's hash of the flags ConfigMap follows, so the pods restart with the flag.
      '+        checksum/feature-flags: ',
      'applied by Flux at',
      'rolled out',
      'evaluated',
      'pass, score 100%',
      'resolved',
      'Resolved in',
      'Stopped everything',
    ]);
    expect(run.stdout).not.toContain('helm upgrade: release revision');
    await expectEachCommitReported(run, 'applied by Flux at');
  }, 300_000);

  it("--gitops flux exits 2 before starting anything when Flux's CRDs were not copied next to its controllers", async () => {
    // Every built tool, but not the flux-crds directory the same build writes.
    const tools = await mkdtemp(join(tmpdir(), 'rebound-demo-tools-'));
    try {
      for (const name of await readdir(toolsDir())) {
        if (name !== 'flux-crds') await symlink(join(toolsDir(), name), join(tools, name));
      }
      const run = await runDemo(['--gitops', 'flux'], undefined, { REBOUND_TOOLS_DIR: tools });
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(2);
      expect(run.stderr).toBe(
        `demo: missing Flux's CRDs (${join(tools, 'flux-crds')}). Run \`make demo\` (or \`make setup\` once, then \`node dev/demo/main.ts\`): it builds or installs them.\n`,
      );
      expect(await processesWithMarker(run.marker)).toEqual([]);
    } finally {
      await rm(tools, { recursive: true, force: true });
    }
  });

  it("exits 1 with the conditions and the controller's output when the loop does not resolve (an objective nothing meets)", async () => {
    const run = await runDemo(['--objective', '100']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expectInOrder(run.stdout, [
      'its objective (slo.yaml) is below 100 ms',
      'response_time_p95 = 636 (fail)',
      'escalated',
      'response_time_p95 = 212 (fail)',
      'exhausted',
      'ActionsExhausted',
      '$ git log production',
      'NOT resolved: phase Exhausted',
      'reason: ActionsExhausted',
      "The controller's last output:",
      '"to":"Exhausted"',
      'Stopped everything',
    ]);
    expect(run.stdout).not.toContain('alert cleared');
    expect(await processesWithMarker(run.marker)).toEqual([]);
  }, 240_000);

  it('stops everything it started on Ctrl-C and exits 130', async () => {
    let interrupted = false;
    const run = await runDemo([], (stdout, pid) => {
      // Once the controller runs, most parts are up: etcd, kube-apiserver, Prometheus, the controller.
      if (!interrupted && /rebound controller\.+ +\d/.test(stdout)) {
        interrupted = true;
        process.kill(-pid, 'SIGINT');
      }
    });
    expect(interrupted, run.stdout).toBe(true);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(130);
    expect(run.stderr).toContain('SIGINT: stopping everything');
    expect(await groupAlive(run.pid), (await groupMembers(run.pid)).join('\n')).toBe(false);
    expect(await processesWithMarker(run.marker)).toEqual([]);
  }, 240_000);
});
