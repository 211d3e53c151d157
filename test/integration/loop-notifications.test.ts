// Issue 21's notifications end to end on the real parts (kube-apiserver + etcd, git http-backend,
// helm, Prometheus scraping the sample workload, `rebound controller` as a process): the demo's
// escalation told to Slack as one thread (first message updated in place, the steps as replies in
// order), to Teams as one card per step, to a CloudEvents sink as CDEvents incident.detected first
// and incident.resolved last; a webhook down during the whole remediation delivers every step once
// when it comes back; a webhook answering 500 forever shows DeliveryFailing while the problem is
// remediated all the same; and a restarted controller sends nothing twice.
//
// Slack and Teams cannot be reached from here: their stand-ins (test/harness/notification-receivers.ts)
// are loopback servers that check what Slack's Web API checks and keep every payload.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification, ProblemEvent } from '../../src/api/index.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { FakeSlack, Recorder } from '../harness/notification-receivers.ts';
import { freePort } from '../harness/ports.ts';
import type { LocalPrometheus } from '../harness/prometheus.ts';
import { SAMPLE_SLI, sampleSlo } from '../harness/sample-workload.ts';
import type { SampleWorkload } from '../harness/sample-workload.ts';
import {
  applyObjects,
  createProjectRepo,
  deployService,
  installControllerRbac,
  startControllerProcess,
} from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import {
  createNamespace,
  gitSecret,
  hasCondition,
  namespaceObjects,
  phase,
  startE2eGitServer,
  startScrapedWorkload,
  stopInOrder,
  ESCALATING_POLICY,
} from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const suffix = (): string => randomBytes(3).toString('hex');
const NAMESPACE = `notify-${suffix()}`;
const SLACK_TOKEN = `xoxb-${randomBytes(12).toString('hex')}`;
const HMAC_KEY = randomBytes(16).toString('hex');
const TEAMS_SIG = randomBytes(12).toString('hex');

const VALUES = `replicaCount: 1
image:
  repository: docker.io/keptnexamples/carts
  tag: "0.13.1"
featureFlags:
  EnablePromotion: true
`;
const STEPS = ['opened', 'committed', 'evaluated', 'escalated', 'committed', 'evaluated', 'resolved'];

let git: GitServer;
let prometheus: LocalPrometheus;
let workload: SampleWorkload;
let controller: ControllerProcess | undefined;
const slack = new FakeSlack(SLACK_TOKEN);
const teams = new Recorder();
const cdevents = new Recorder();
/** Down (503) until the test brings it back. */
const flaky = new Recorder();
/** 500 forever. */
const broken = new Recorder();
let flakyDown = true;

const { get, waitFor } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller?.process.recentOutput() ?? '',
});

function notification(name: string, sink: Record<string, unknown>, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Notification',
    metadata: { name, namespace: NAMESPACE },
    spec: { sink: { linkTemplate: 'https://dash.example/problems/{namespace}/{name}', ...sink }, ...extra },
  };
}

function secret(name: string, data: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NAMESPACE }, stringData: data };
}

async function startController(): Promise<ControllerProcess> {
  return startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: prometheus.url,
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--evaluation-wait=4s',
      '--turn-poll=500ms',
      '--evaluation-retry=1s',
      '--stalled-recheck=5s',
      '--lease-duration=3s',
      '--notification-allowed-hosts=127.0.0.1',
      '--notification-retry-max=1s',
      '--notification-refresh=2s',
      '--log-level=debug',
    ],
  });
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  ({ workload, prometheus } = await startScrapedWorkload(admin));
  await Promise.all([slack.start(), teams.start(), cdevents.start(), flaky.start(), broken.start()]);
  flaky.answer = () => (flakyDown ? 503 : 200);
  broken.answer = () => 500;
  await createNamespace(admin, NAMESPACE, [
    gitSecret(NAMESPACE, git),
    secret('slack-bot', { token: SLACK_TOKEN }),
    secret('teams-workflow', {
      url: `${teams.url}/workflows/w1/triggers/manual/paths/invoke?api-version=2016-06-01&sig=${TEAMS_SIG}`,
    }),
    secret('hook', { secret: HMAC_KEY }),
  ]);
  await applyObjects(admin, [
    notification('slack', { type: 'slack', url: slack.url, channel: slack.channel, secretRef: { name: 'slack-bot' } }),
    notification('teams', { type: 'teams', secretRef: { name: 'teams-workflow' } }),
    notification('cdevents', { type: 'cloudevents', url: `${cdevents.url}/events`, mode: 'binary' }),
    notification('flaky', { type: 'webhook', url: `${flaky.url}/hook`, secretRef: { name: 'hook' } }),
    notification('broken', { type: 'webhook', url: `${broken.url}/hook` }, { steps: ['opened', 'resolved'] }),
  ]);
  controller = await startController();
}, 120_000);

afterAll(() => stopInOrder(controller, prometheus, workload, git, slack, teams, cdevents, flaky, broken));

describe('notifications of a remediation', () => {
  it('tell the escalation to Slack, Teams and CDEvents, and to a sink that was down, once each', async () => {
    const project = `p-${suffix()}`;
    const repo = await createProjectRepo(git, {
      project,
      service: 'carts',
      stages: ['production'],
      remediationStages: ['production'],
      files: {
        'values.yaml': VALUES,
        'remediation.yaml': ESCALATING_POLICY,
        'slo.yaml': sampleSlo(600),
        'sli.yaml': SAMPLE_SLI,
      },
    });
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'Project',
        metadata: { name: project, namespace: NAMESPACE },
        spec: {
          git: { url: repo.url, secretRef: { name: 'git' }, author: { name: 'Rebound', email: 'rebound@example.com' } },
          stages: [{ name: 'production', remediation: 'automated', apply: 'helm' }],
        },
      },
    ]);
    const releaseNamespace = `${project}-production`;
    await deployService({
      kubeconfigPath: admin,
      repoDir: repo.dir,
      branch: 'production',
      service: 'carts',
      namespace: releaseNamespace,
    });
    workload.addTarget({ project, stage: 'production', service: 'carts', namespace: releaseNamespace });
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'ProblemEvent',
        metadata: { name: 'slow-carts', namespace: NAMESPACE },
        spec: {
          project,
          stage: 'production',
          service: 'carts',
          problemTitle: 'Response time degradation',
          state: 'OPEN',
        },
      },
    ]);

    // The failing sinks say so on their Notification while the remediation goes on regardless.
    await waitFor<Notification>('notification', 'flaky', hasCondition('Ready', 'False', 'DeliveryFailing'), 60_000);
    const done = await waitFor<ProblemEvent>(
      'problemevent',
      'slow-carts',
      phase('Resolved', 'Exhausted', 'Unhandled'),
      120_000,
    );
    expect(done.status?.phase).toBe('Resolved');
    expect(done.status?.attempts?.map((a) => a.result)).toEqual(['fail', 'pass']);
    const uid = done.metadata.uid ?? '';
    const commits = done.status?.attempts?.map((a) => a.commit ?? '') ?? [];

    // Slack: one thread; its first message ends on the final phase after one update per later step.
    await expect.poll(() => slack.replies(slack.roots()[0]?.ts ?? '').length, { timeout: 30_000 }).toBe(6);
    const roots = slack.roots();
    expect(roots).toHaveLength(1);
    const [root] = roots;
    expect(root?.text).toBe(`:white_check_mark: Resolved: Response time degradation (carts in ${project}/production)`);
    expect(root?.history.length).toBe(6);
    expect(slack.replies(root?.ts ?? '').map((r) => r.text.split(':')[0])).toEqual([
      'Committed',
      'Evaluated',
      'Escalated',
      'Committed',
      'Evaluated',
      'Resolved',
    ]);
    expect(slack.replies(root?.ts ?? '')[0]?.text).toContain(`committed as ${commits[0]?.slice(0, 7)}`);
    expect(slack.replies(root?.ts ?? '')[3]?.text).toContain(`committed as ${commits[1]?.slice(0, 7)}`);
    const slackStatus = await waitFor<Notification>(
      'notification',
      'slack',
      (n) => n.status?.deliveries?.[0]?.delivered === 7,
    );
    expect(slackStatus.status?.deliveries).toEqual([
      { problem: 'slow-carts', uid, delivered: 7, thread: `${slack.channel}/${root?.ts}` },
    ]);
    expect(slackStatus.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Delivering',
    });

    // Teams: one Adaptive Card per step, in order.
    await expect.poll(() => teams.accepted.length, { timeout: 30_000 }).toBe(7);
    const cards = teams.accepted.map(
      (r) =>
        (
          r.json as {
            attachments: {
              contentType: string;
              content: { type: string; body: { facts?: { title: string; value: string }[] }[] };
            }[];
          }
        ).attachments[0],
    );
    expect(
      cards.every(
        (c) => c?.contentType === 'application/vnd.microsoft.card.adaptive' && c.content.type === 'AdaptiveCard',
      ),
    ).toBe(true);
    expect(cards.map((c) => c?.content.body[2]?.facts?.[0]?.value)).toEqual(STEPS);

    // CDEvents: incident.detected first, incident.resolved last, the same incident.
    await expect.poll(() => cdevents.accepted.length, { timeout: 30_000 }).toBe(7);
    const types = cdevents.accepted.map((r) => r.headers['ce-type']);
    expect(types[0]).toBe('dev.cdevents.incident.detected.0.2.0');
    expect(types.at(-1)).toBe('dev.cdevents.incident.resolved.0.2.0');
    expect(types.filter((t) => String(t).startsWith('dev.cdevents.'))).toHaveLength(2);
    const incidents = [cdevents.accepted[0], cdevents.accepted[6]].map(
      (r) =>
        (r?.json as { subject: { id: string; content: { environment: { id: string }; service: { id: string } } } })
          .subject,
    );
    expect(incidents.map((s) => [s.id, s.content.environment.id, s.content.service.id])).toEqual([
      [uid, 'production', 'carts'],
      [uid, 'production', 'carts'],
    ]);

    // The webhook that was down the whole time: back, it gets every step exactly once, in order, signed.
    expect(flaky.accepted).toEqual([]);
    expect(flaky.received.length).toBeGreaterThan(1);
    flakyDown = false;
    await waitFor<Notification>('notification', 'flaky', hasCondition('Ready', 'True', 'Delivering'), 60_000);
    await expect.poll(() => flaky.accepted.length, { timeout: 30_000 }).toBe(7);
    expect(flaky.accepted.map((r) => r.headers['idempotency-key'])).toEqual([
      `${uid}/opened`,
      `${uid}/1/committed`,
      `${uid}/1/evaluated`,
      `${uid}/1/escalated`,
      `${uid}/2/committed`,
      `${uid}/2/evaluated`,
      `${uid}/resolved`,
    ]);
    expect(flaky.accepted.every((r) => typeof r.headers['x-rebound-signature'] === 'string')).toBe(true);

    // The one answering 500 forever: still failing, counted, and the problem was remediated anyway.
    const failing = await get<Notification>('notification', 'broken');
    expect(failing.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DeliveryFailing',
    });
    expect(failing.status?.lastError).toContain('webhook answered HTTP 500');
    const metrics = await (await fetch(`${controller?.metricsUrl ?? ''}/metrics`)).text();
    expect(metrics).toMatch(/rebound_notification_sinks_failing\{sink="webhook"\} 1/);
    expect(metrics).toMatch(/rebound_notifications_total\{sink="webhook",result="error"\} [1-9]/);
    // No credential reached a status.
    const everything = JSON.stringify(
      await Promise.all(['slack', 'teams', 'flaky'].map((n) => get<Notification>('notification', n))),
    );
    for (const s of [SLACK_TOKEN, HMAC_KEY, TEAMS_SIG]) expect(everything).not.toContain(s);
  }, 300_000);

  it('sends nothing twice after a restart: the progress is in the Notification status', async () => {
    const before = {
      replies: slack.messages.length,
      teams: teams.accepted.length,
      cdevents: cdevents.accepted.length,
      flaky: flaky.accepted.length,
    };
    // The progress is written after the deliveries: a restart before that write resends a step (at
    // least once). Wait until every working sink's progress is stored.
    for (const name of ['slack', 'teams', 'cdevents', 'flaky'])
      await waitFor<Notification>('notification', name, (n) => n.status?.deliveries?.[0]?.delivered === 7);
    await controller?.stop();
    controller = await startController();
    // A new problem the policy does not cover: it is opened (and ends Unhandled) after the restart.
    const project = (await get<ProblemEvent>('problemevent', 'slow-carts')).spec.project;
    await applyObjects(admin, [
      {
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'ProblemEvent',
        metadata: { name: 'unknown-trouble', namespace: NAMESPACE },
        spec: { project, stage: 'production', service: 'carts', problemTitle: 'Something else', state: 'OPEN' },
      },
    ]);
    await waitFor<ProblemEvent>('problemevent', 'unknown-trouble', phase('Unhandled'), 60_000);
    // Each queue took the old problem before the new one: once the new one's step arrived, the old were not resent.
    await expect.poll(() => flaky.accepted.length, { timeout: 30_000 }).toBe(before.flaky + 1);
    await expect.poll(() => slack.roots().length, { timeout: 30_000 }).toBe(2);
    await expect.poll(() => teams.accepted.length, { timeout: 30_000 }).toBe(before.teams + 1);
    await expect.poll(() => cdevents.accepted.length, { timeout: 30_000 }).toBe(before.cdevents + 1);
    expect(slack.messages.length).toBe(before.replies + 1);
    expect(flaky.accepted.at(-1)?.headers['x-rebound-event']).toBe('opened');
    expect(cdevents.accepted.at(-1)?.headers['ce-type']).toBe('dev.cdevents.incident.detected.0.2.0');
  }, 180_000);
});
