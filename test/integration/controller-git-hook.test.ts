// A Git host's push webhook on the real parts: with the Project polling only once an hour, a signed
// POST /hooks/git is what makes the controller read the pushed branch at once; an unsigned one is
// refused and changes nothing.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../../src/api/index.ts';
import type { GitServer } from '../harness/git-server.ts';
import { laneCluster } from '../harness/lane.ts';
import { freePort } from '../harness/ports.ts';
import { createProjectRepo, installControllerRbac, startControllerProcess } from '../harness/world.ts';
import type { ControllerProcess } from '../harness/world.ts';
import { condition, createNamespace, gitSecret, namespaceObjects, push, startE2eGitServer } from './e2e-helpers.ts';

const cluster = laneCluster();
const admin = cluster.kubeconfigPath;
const NAMESPACE = `git-hook-${randomBytes(3).toString('hex')}`;
const SECRET = randomBytes(16).toString('hex');
const POLICY = `apiVersion: spec.keptn.sh/0.1.4
kind: Remediation
metadata:
  name: carts-remediation
spec:
  remediations:
    - problemType: default
      actionsOnOpen:
        - action: scale
          name: Scale up
          value: "+1"
`;

let git: GitServer;
let controller: ControllerProcess;
let secrets: string;
let repo: { url: string; dir: string };

const { get } = namespaceObjects({
  kubeconfigPath: admin,
  namespace: NAMESPACE,
  controllerOutput: () => controller.process.recentOutput(),
});
// The Project is named after the namespace.
const project = (): Promise<Project> => get<Project>('project', NAMESPACE);
const configValid = async (): Promise<string | undefined> => condition(await project(), 'ConfigValid')?.status;

function githubPush(body: string, secret: string): RequestInit {
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  };
}

beforeAll(async () => {
  await installControllerRbac(admin);
  git = await startE2eGitServer();
  repo = await createProjectRepo(git, {
    project: NAMESPACE,
    service: 'carts',
    stages: ['production'],
    remediationStages: ['production'],
    files: { 'values.yaml': 'replicaCount: 1\n', 'remediation.yaml': POLICY },
  });
  await createNamespace(admin, NAMESPACE, [
    gitSecret(NAMESPACE, git),
    {
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Project',
      metadata: { name: NAMESPACE, namespace: NAMESPACE },
      spec: {
        git: { url: repo.url, secretRef: { name: 'git' }, poll: '1h' },
        stages: [{ name: 'production', apply: 'none' }],
      },
    },
  ]);
  secrets = await mkdtemp(join(tmpdir(), 'rebound-hook-secrets-'));
  await writeFile(join(secrets, 'token'), `${randomBytes(16).toString('hex')}\n`);
  await writeFile(join(secrets, 'git-secret'), `${SECRET}\n`);
  controller = await startControllerProcess({
    kubeconfigPath: cluster.controllerKubeconfigPath,
    prometheusUrl: 'http://127.0.0.1:9',
    metricsPort: await freePort(),
    args: [
      '--namespace',
      NAMESPACE,
      '--no-leader-elect',
      '--webhook-address',
      `127.0.0.1:${await freePort()}`,
      '--webhook-token-file',
      join(secrets, 'token'),
      '--git-webhook-secret-file',
      join(secrets, 'git-secret'),
    ],
  });
}, 120_000);

afterAll(async () => {
  await controller?.stop();
  await git?.stop();
  if (secrets) await rm(secrets, { recursive: true, force: true });
});

describe('POST /hooks/git', () => {
  it('re-reads the pushed branch at once when the push is signed, and refuses an unsigned one', async () => {
    await expect.poll(configValid, { timeout: 30_000, interval: 250 }).toBe('True');
    await push(
      repo.dir,
      'production',
      { 'carts/remediation.yaml': `${POLICY}        - action: [unclosed\n` },
      'a typo',
    );
    // The ingest server logs its URL once the manager has started it.
    const webhooks = /"server":"webhooks","url":"(http:\/\/[^"]+)"/.exec(controller.process.recentOutput())?.[1];
    expect(webhooks).toBeDefined();
    const body = JSON.stringify({
      ref: 'refs/heads/production',
      after: 'f'.repeat(40),
      repository: { clone_url: repo.url },
    });

    const forged = await fetch(`${webhooks}/hooks/git`, githubPush(body, 'not-the-secret'));
    expect(forged.status).toBe(401);
    // Give a wrongly accepted push every chance to show: the Project must still say the config is valid.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await configValid()).toBe('True');

    const signed = await fetch(`${webhooks}/hooks/git`, githubPush(body, SECRET));
    expect(signed.status).toBe(202);
    await expect.poll(configValid, { timeout: 15_000, interval: 250 }).toBe('False');
    const message = condition(await project(), 'ConfigValid')?.message ?? '';
    expect(message).toMatch(/carts\/remediation\.yaml:\d+:\d+: /);
  });
});
