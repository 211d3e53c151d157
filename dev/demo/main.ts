// `make demo`: the whole remediation loop on this machine, narrated. It starts the real parts
// (dev/demo/demo-world.ts, built from the test harness), fires one alert at Alertmanager, and tells
// what the controller does by watching the ProblemEvent's status through the API: the demo observes,
// the controller acts. Exit 0 when the problem is resolved, 1 when it is not (with the controller's
// last output), 2 for bad usage or missing tools. Nothing is left running, also on Ctrl-C (unless
// --keep, until Ctrl-C). It runs from a checkout only, so it is no command of the shipped CLI.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { ProblemEvent } from '../../src/api/index.ts';
import { parseDuration } from '../../src/api/duration.ts';
import { errorMessage } from '../../src/errors.ts';
import { loadKubeConfig, reboundClients } from '../../src/kube/index.ts';
import { changedLines, formatLine, formatStep, TimelineTracker } from './demo-timeline.ts';
import type { TimelineStep } from './demo-timeline.ts';
import {
  DEMO_EXAMPLES_DIR,
  DEMO_NAMESPACE,
  DEMO_OBJECTIVE_MS,
  DEMO_PROBLEM_TITLE,
  DEMO_PROJECT,
  DEMO_SERVICE,
  DEMO_STAGE,
  DEMO_STAGES,
  startDemoWorld,
} from './demo-world.ts';
import type { DemoWorld, StepReporter } from './demo-world.ts';
import { describeExit, runCommand, settleProcessGroup } from '../../test/harness/process.ts';
import {
  ARGOCD_SYSTEM_TOOLS,
  ARGOCD_TOOLS,
  BUILT_TOOLS,
  FLUX_TOOLS,
  SYSTEM_TOOLS,
  WORKLOAD_TOOLS,
  missingTools,
  toolPath,
} from '../../test/harness/tools.ts';
import { fluxCrdsDir } from '../../test/harness/flux.ts';

const HELP = `Usage: make demo [DEMO_ARGS="[--keep] [--gitops argocd|flux] [--objective MS] [--evaluation-wait D] [--timeout D]"]
       node dev/demo/main.ts [--keep] [--gitops argocd|flux] [--objective MS] [--evaluation-wait D] [--timeout D]

The remediation loop on this machine, with nothing installed by hand (\`make demo\` sets up what is
missing; \`node dev/demo/main.ts\` runs it after \`make setup\`): a Kubernetes cluster whose pods roll
out (kube-controller-manager, kube-scheduler, KWOK's simulated nodes), a Git
server with the sockshop project, carts deployed with Helm in dev, staging and production, a sample
workload whose response time follows carts' replicas and EnablePromotion flag, Prometheus,
Alertmanager and \`rebound controller\`. One alert is fired; the timeline shows each step as the
controller takes it, then each stage's pods and the production branch's git log.

  --keep               leave everything running afterwards and print how to look at it (Ctrl-C stops)
  --gitops argocd      production is synced by Argo CD (application-controller and repo-server, which
                       renders carts' chart from the branch): Rebound commits, asks Argo CD to refresh,
                       and evaluates once Argo CD reports the commit synced and Healthy
  --gitops flux        production is applied by Flux (source-controller and kustomize-controller) from
                       carts' chart rendered to plain manifests on the branch; a Remediation names
                       where replicas and flags are in them: Rebound commits, asks Flux to reconcile,
                       and evaluates once Flux reports the commit applied
  --objective MS       carts' SLO: p95 below MS milliseconds (default ${String(DEMO_OBJECTIVE_MS)}: scaling alone
                       misses it, the flag meets it; 100 makes every action fail: Exhausted)
  --evaluation-wait D  the controller's wait between an action and its evaluation (default 5s)
  --timeout D          give up when the problem is not resolved this long after the alert (default 2m)

Exit status: 0 resolved, 1 not resolved (the controller's last output is printed), 2 bad usage.
`;

const APPLIED_BY = { helm: 'applied with Helm', argocd: 'synced by Argo CD', flux: 'applied by Flux' } as const;

interface DemoArgs {
  keep: boolean;
  gitops: 'argocd' | 'flux' | undefined;
  objectiveMs: number;
  evaluationWait: string;
  timeoutMs: number;
}

function parse(argv: string[]): DemoArgs | string {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        keep: { type: 'boolean', default: false },
        gitops: { type: 'string' },
        objective: { type: 'string', default: String(DEMO_OBJECTIVE_MS) },
        'evaluation-wait': { type: 'string', default: '5s' },
        timeout: { type: 'string', default: '2m' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    });
    if (values.help) return HELP;
    parseDuration(values['evaluation-wait']);
    const objectiveMs = Number(values.objective);
    if (!Number.isInteger(objectiveMs) || objectiveMs <= 0)
      throw new Error(`--objective must be a whole number of milliseconds, not "${values.objective}"`);
    const gitops = values.gitops;
    if (gitops !== undefined && gitops !== 'argocd' && gitops !== 'flux')
      throw new Error(`--gitops must be argocd or flux, not "${gitops}"`);
    return {
      keep: values.keep,
      gitops,
      objectiveMs,
      evaluationWait: values['evaluation-wait'],
      timeoutMs: parseDuration(values.timeout),
    };
  } catch (err) {
    return `demo: ${errorMessage(err)}\n\n${HELP}`;
  }
}

const out = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Set-up progress: `  Kubernetes cluster ...... 5.4 s  etcd + kube-apiserver at ...`. */
const progress: StepReporter = {
  start: (label) => process.stdout.write(`  ${label.padEnd(24, '.')} `),
  done: (_label, ms, detail) => process.stdout.write(`${seconds(ms).padStart(7)}  ${detail}\n`),
};

/** Resolves when a signal arrives; a second signal ends the process at once (the exit hooks kill every child). */
function interruption(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`\n${name} again: exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${name}: stopping everything (again to exit at once)\n`);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  return { signal: controller.signal, dispose: () => signals.forEach((s) => process.off(s, onSignal)) };
}

/** `promise`, or a rejection as soon as `signal` aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (typeof args === 'string') {
    const isHelp = args === HELP;
    (isHelp ? process.stdout : process.stderr).write(args);
    return isHelp ? 0 : 2;
  }
  if (!existsSync(DEMO_EXAMPLES_DIR)) {
    process.stderr.write(
      `demo: ${DEMO_EXAMPLES_DIR} is missing: the demo runs from a checkout of the Rebound repository (\`make demo\`).\n`,
    );
    return 2;
  }
  const missing = missingTools([
    ...BUILT_TOOLS,
    ...WORKLOAD_TOOLS,
    ...SYSTEM_TOOLS,
    ...(args.gitops === 'argocd' ? [...ARGOCD_TOOLS, ...ARGOCD_SYSTEM_TOOLS] : []),
    ...(args.gitops === 'flux' ? FLUX_TOOLS : []),
  ]);
  // Flux's CRDs are copied next to its binaries by the same build; startFlux installs them first.
  const missingParts: string[] = [...missing];
  if (args.gitops === 'flux' && !existsSync(fluxCrdsDir())) missingParts.push(`Flux's CRDs (${fluxCrdsDir()})`);
  if (missingParts.length > 0) {
    process.stderr.write(
      `demo: missing ${missingParts.join(', ')}. Run \`make demo\` (or \`make setup\` once, then \`node dev/demo/main.ts\`): it builds or installs them.\n`,
    );
    return 2;
  }

  const { signal, dispose } = interruption();
  let stopWorld: (() => Promise<string[]>) | undefined;
  let world: DemoWorld | undefined;
  let code: number;
  const started = performance.now();
  try {
    out(`Rebound demo: one alert, remediated as Git commits, ${APPLIED_BY[args.gitops ?? 'helm']}, judged by SLOs.`);
    out();
    out('Starting the real parts:');
    world = await unlessAborted(
      startDemoWorld(
        {
          progress,
          signal,
          objectiveMs: args.objectiveMs,
          evaluationWait: args.evaluationWait,
          ...(args.gitops ? { gitops: args.gitops } : {}),
          controllerArgs: [
            `--evaluation-wait=${args.evaluationWait}`,
            '--turn-poll=500ms',
            '--evaluation-retry=1s',
            '--stalled-recheck=5s',
            '--sync-poll=500ms',
            '--lease-duration=5s',
          ],
        },
        (stop) => (stopWorld = stop),
      ),
      signal,
    );
    const setupMs = performance.now() - started;
    out(`  set-up took ${seconds(setupMs)}`);
    out();

    const before = await unlessAborted(currentResponseTime(world), signal);
    out(
      `carts in ${DEMO_STAGE} answers in ${String(before)} ms at p95; its objective (slo.yaml) is below ${String(args.objectiveMs)} ms.`,
    );
    const plan = world.actions.map((a, i) => `${String(i + 1)}. ${a.action} ${a.value}`).join(', ');
    out(`Policy (${world.policySource}), "${DEMO_PROBLEM_TITLE}": ${plan}.`);
    out();
    out('Timeline (seconds since the alert was fired):');
    const firedAt = performance.now();
    const startsAt = await fireAlert(world, { valueMs: before, objectiveMs: args.objectiveMs });
    out(
      formatLine(
        0,
        'alert fired',
        `Alertmanager ${world.alertmanager.url}: carts_response_time_p95, ${DEMO_PROJECT}/${DEMO_STAGE}/${DEMO_SERVICE}`,
      ),
    );

    const final = await unlessAborted(narrate(world, firedAt, args.timeoutMs, signal), signal);
    const loopMs = performance.now() - firedAt;
    const resolved = final?.status?.phase === 'Resolved';
    if (resolved && final) await clearAlert(world, final, { firedAt, startsAt, objectiveMs: args.objectiveMs }, signal);

    out();
    // The pods themselves: production rolled out to the new count, the other stages did not move.
    for (const stage of DEMO_STAGES) {
      const namespace = `${DEMO_PROJECT}-${stage}`;
      out(`$ kubectl get pods -n ${namespace}`);
      const pods = await runCommand(toolPath('kubectl'), [
        '--kubeconfig',
        world.cluster.kubeconfigPath,
        'get',
        'pods',
        '-n',
        namespace,
      ]).then(
        (r) => r.stdout,
        (err: unknown) => errorMessage(err),
      );
      out(
        pods
          .trimEnd()
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n'),
      );
    }
    out();
    out(`$ git log ${DEMO_STAGE}    # ${world.repo.url}`);
    const log = await runCommand('git', ['--git-dir', world.repo.dir, 'log', DEMO_STAGE]);
    out(
      log.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (l.trim() === '' ? '' : `  ${l}`))
        .join('\n'),
    );
    out();

    if (resolved) {
      out(
        `Resolved in ${seconds(loopMs)} after the alert (${String(final.status?.attempts?.length ?? 0)} actions); set-up ${seconds(setupMs)}.`,
      );
      code = 0;
    } else {
      out(
        `NOT resolved: ${final ? `phase ${final.status?.phase ?? 'none'} after ${seconds(loopMs)}` : `no ProblemEvent appeared within ${seconds(args.timeoutMs)}`}.`,
      );
      // The attempts are in the timeline above; the conditions say why it stopped where it did.
      if (final)
        out(
          stringify({ phase: final.status?.phase, conditions: final.status?.conditions ?? [] })
            .trimEnd()
            .replace(/^/gm, '  '),
        );
      out("The controller's last output:");
      out(world.controller.process.recentOutput().replace(/^/gm, '  '));
      code = 1;
    }
    if (args.keep) await keepRunning(world, signal);
  } catch (err) {
    if (signal.aborted) {
      code = 130;
    } else {
      process.stderr.write(`demo failed: ${errorMessage(err)}\n`);
      if (world) process.stderr.write(`the controller's last output:\n${world.controller.process.recentOutput()}\n`);
      code = 1;
    }
  } finally {
    const stopping = performance.now();
    const errors = (await stopWorld?.()) ?? [];
    for (const e of errors) process.stderr.write(`while stopping ${e}\n`);
    // Children in our own process group got the Ctrl-C too: none may outlive the demo.
    for (const left of await settleProcessGroup())
      process.stderr.write(`killed ${left}: still running after the others stopped\n`);
    out(`Stopped everything in ${seconds(performance.now() - stopping)}.`);
    dispose();
  }
  // A part still starting when the signal came is not in the world yet: exiting runs the hooks that
  // kill every child process group we started and remove their directories.
  if (code === 130) process.exit(130);
  return code;
}

/** The p95 Prometheus has for carts in production, once it has scraped it. */
async function currentResponseTime(world: DemoWorld): Promise<number> {
  const query = `rebound_sample_response_time_p95_ms{project="${DEMO_PROJECT}",stage="${DEMO_STAGE}",service="${DEMO_SERVICE}"}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${world.prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
    const value = body.data?.result?.[0]?.value?.[1];
    if (value !== undefined) return Number(value);
    if (Date.now() > deadline) throw new Error(`Prometheus has no sample of ${query} after 30 s`);
    await sleep(250);
  }
}

const ALERT_LABELS = {
  alertname: 'carts_response_time_p95',
  project: DEMO_PROJECT,
  stage: DEMO_STAGE,
  service: DEMO_SERVICE,
  severity: 'warning',
};

/** One alert, posted to Alertmanager's API as Prometheus would; Alertmanager notifies the controller. Returns its startsAt. */
async function fireAlert(world: DemoWorld, summary: AlertSummary): Promise<string> {
  const startsAt = new Date().toISOString();
  await postAlert(world, { startsAt }, summary);
  return startsAt;
}

interface AlertSummary {
  valueMs: number;
  objectiveMs: number;
}

async function postAlert(
  world: DemoWorld,
  times: { startsAt: string; endsAt?: string },
  summary: AlertSummary,
): Promise<void> {
  const alert = {
    labels: ALERT_LABELS,
    annotations: {
      problemTitle: DEMO_PROBLEM_TITLE,
      summary: `carts p95 response time is ${String(summary.valueMs)} ms (objective: below ${String(summary.objectiveMs)} ms)`,
    },
    generatorURL: `${world.prometheus.url}/graph`,
    ...times,
  };
  const res = await fetch(`${world.alertmanager.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([alert]),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`Alertmanager refused the alert: ${String(res.status)} ${await res.text()}`);
}

/**
 * Prints each step as it shows up in the ProblemEvent's status, until the problem reaches a final
 * phase or `timeoutMs` passes. Returns the last snapshot (undefined if none ever appeared).
 */
async function narrate(
  world: DemoWorld,
  firedAt: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ProblemEvent | undefined> {
  const clients = reboundClients(loadKubeConfig({ kind: 'file', path: world.cluster.kubeconfigPath }), 'rebound-demo');
  const tracker = new TimelineTracker({ actionCount: world.actions.length });
  let last: ProblemEvent | undefined;
  while (performance.now() - firedAt < timeoutMs && !signal.aborted) {
    const exit = world.controller.process.exitStatus();
    if (exit) {
      out(formatLine(performance.now() - firedAt, 'controller exited', describeExit(exit)));
      return last;
    }
    const { items } = await clients.problemEvents.list(DEMO_NAMESPACE);
    last = items.find((p) => p.spec.service === DEMO_SERVICE && p.spec.stage === DEMO_STAGE) ?? last;
    if (last) {
      for (const step of tracker.observe(last)) {
        const diff = step.kind === 'committed' ? await commitDiff(world, step) : undefined;
        for (const line of formatStep(step, { elapsedMs: performance.now() - firedAt, ...(diff ? { diff } : {}) }))
          out(line);
        if (step.kind === 'finished') return last;
      }
    }
    await sleep(200);
  }
  return last;
}

async function commitDiff(world: DemoWorld, step: Extract<TimelineStep, { kind: 'committed' }>): Promise<string[]> {
  try {
    const { stdout } = await runCommand('git', [
      '--git-dir',
      world.repo.dir,
      'show',
      '--format=',
      '--unified=0',
      step.commit,
    ]);
    return changedLines(stdout);
  } catch (err) {
    return [`(git show ${step.commit}: ${errorMessage(err)})`];
  }
}

/** The alert clears (as Prometheus would once the rule stops firing): Alertmanager sends "resolved". */
async function clearAlert(
  world: DemoWorld,
  problem: ProblemEvent,
  alert: { firedAt: number; startsAt: string; objectiveMs: number },
  signal: AbortSignal,
): Promise<void> {
  const { firedAt, startsAt, objectiveMs } = alert;
  const now = await currentResponseTime(world);
  await postAlert(world, { startsAt, endsAt: new Date().toISOString() }, { valueMs: now, objectiveMs });
  const clients = reboundClients(loadKubeConfig({ kind: 'file', path: world.cluster.kubeconfigPath }), 'rebound-demo');
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline && !signal.aborted) {
    const now = await clients.problemEvents.get(DEMO_NAMESPACE, problem.metadata.name ?? '');
    if (now?.spec.state === 'RESOLVED') {
      out(
        formatLine(
          performance.now() - firedAt,
          'alert cleared',
          `Alertmanager sent "resolved": spec.state RESOLVED on ${DEMO_NAMESPACE}/${problem.metadata.name ?? ''}`,
        ),
      );
      return;
    }
    await sleep(200);
  }
  out(
    formatLine(
      performance.now() - firedAt,
      'alert cleared',
      'Alertmanager did not deliver "resolved" within 15 s (the problem stays Resolved)',
    ),
  );
}

async function keepRunning(world: DemoWorld, signal: AbortSignal): Promise<void> {
  const kubectl = toolPath('kubectl');
  const admin = world.cluster.kubeconfigPath;
  const clone = world.repo.url.replace('://', `://${world.git.username}:${world.git.password}@`);
  out('Everything is still running (--keep). Look around:');
  out(`  export KUBECONFIG=${admin}`);
  out(`  ${kubectl} get problemevents -n ${DEMO_NAMESPACE}`);
  out(`  ${kubectl} describe problemevents -n ${DEMO_NAMESPACE}`);
  out(`  ${kubectl} get deployment,configmap,pods -n ${DEMO_PROJECT}-${DEMO_STAGE}`);
  out(`  git clone -b ${DEMO_STAGE} ${clone}`);
  out(`  curl -s ${world.controller.metricsUrl}/metrics | grep ^rebound_`);
  out(`  Prometheus ${world.prometheus.url}   Alertmanager ${world.alertmanager.url}`);
  out('Press Ctrl-C to stop everything.');
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

process.exitCode = await run(process.argv.slice(2));
