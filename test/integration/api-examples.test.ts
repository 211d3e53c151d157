// The rebound.dev CRDs on the real kube-apiserver: every ready-to-apply example is accepted, the
// schema's defaults are filled in, and the CEL rules reject what Rebound could not carry out, with
// the messages users will see from `kubectl apply`.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { runCommand } from '../harness/process.ts';
import { toolPath } from '../harness/tools.ts';
import type { ProblemEvent, Project, Remediation } from '../../src/api/index.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const cluster = inject('cluster');

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await runCommand(toolPath('kubectl'), ['--kubeconfig', cluster.kubeconfigPath, ...args], {
    timeoutMs: 60_000,
    ...(input === undefined ? {} : { input }),
  });
  return result.stdout;
}

async function kubectlFailure(args: string[], input?: string): Promise<string> {
  try {
    await kubectl(args, input);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded but was expected to fail`);
}

let namespace: string;

beforeAll(async () => {
  namespace = `api-examples-${randomBytes(4).toString('hex')}`;
  await kubectl(['create', 'namespace', namespace]);
  await kubectl(['apply', '-n', namespace, '-f', join(repoRoot, 'examples', 'resources')]);
});

function remediation(name: string, actions: Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'rebound.dev/v1alpha1',
    kind: 'Remediation',
    metadata: { name, namespace },
    spec: {
      project: 'sockshop',
      stage: 'production',
      service: 'carts',
      remediations: [{ problemType: 'x', actionsOnOpen: actions }],
      ...extra,
    },
  });
}

describe('examples/resources', () => {
  it('are all accepted and listed under the rebound category', async () => {
    const names = (await kubectl(['get', 'rebound', '-n', namespace, '-o', 'name'])).trim().split('\n').sort();
    expect(names).toEqual([
      'notification.rebound.dev/cdevents-broker',
      'notification.rebound.dev/incident-webhook',
      'notification.rebound.dev/oncall-slack',
      'notification.rebound.dev/team-teams',
      'problemevent.rebound.dev/carts-failure-rate',
      'problemevent.rebound.dev/carts-response-time',
      'problemevent.rebound.dev/helloservice-main-page-slow',
      'project.rebound.dev/fulltour',
      'project.rebound.dev/sockshop',
      'remediation.rebound.dev/carts-production',
      'remediation.rebound.dev/helloservice-production',
    ]);
  });

  it('get the schema defaults filled in by the API server', async () => {
    const project = JSON.parse(await kubectl(['get', 'rbproj', 'fulltour', '-n', namespace, '-o', 'json'])) as Project;
    expect(project.spec.git).toEqual({
      url: 'https://git.example.com/fulltour/config.git',
      secretRef: { name: 'fulltour-git' },
      defaultBranch: 'main',
      poll: '1m',
    });
    const sockshop = JSON.parse(await kubectl(['get', 'rbproj', 'sockshop', '-n', namespace, '-o', 'json'])) as Project;
    expect(sockshop.spec.stages?.map((s) => [s.name, s.remediation, s.apply])).toEqual([
      ['dev', 'disabled', 'helm'],
      ['staging', 'manual', 'helm'],
      ['production', 'automated', 'helm'],
    ]);
    const rem = JSON.parse(
      await kubectl(['get', 'rbrem', 'helloservice-production', '-n', namespace, '-o', 'json']),
    ) as Remediation;
    expect(rem.spec.remediations[0]?.actionsOnOpen).toEqual([
      { name: 'scale', action: 'scale', description: 'Scale up', value: '2' },
    ]);
  });
});

describe('ProblemEvent', () => {
  it('defaults state to OPEN and keeps free-form details', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: 'rebound.dev/v1alpha1',
        kind: 'ProblemEvent',
        metadata: { name: 'no-state', namespace },
        spec: {
          project: 'sockshop',
          stage: 'production',
          service: 'carts',
          problemTitle: 'slow',
          details: { nested: { list: [1, 'two'] } },
        },
      }),
    );
    const pe = JSON.parse(await kubectl(['get', 'pe', 'no-state', '-n', namespace, '-o', 'json'])) as ProblemEvent;
    expect(pe.spec.state).toBe('OPEN');
    expect(pe.spec.details).toEqual({ nested: { list: [1, 'two'] } });
  });

  it('keeps project, stage and service immutable', async () => {
    const message = await kubectlFailure([
      'patch',
      'pe',
      'carts-failure-rate',
      '-n',
      namespace,
      '--type',
      'merge',
      '-p',
      '{"spec":{"service":"orders"}}',
    ]);
    expect(message).toContain('project, stage and service are immutable');
  });

  it('takes status only through the status subresource', async () => {
    await kubectl([
      'patch',
      'pe',
      'carts-response-time',
      '-n',
      namespace,
      '--type',
      'merge',
      '-p',
      '{"status":{"phase":"Resolved"}}',
    ]);
    let pe = JSON.parse(
      await kubectl(['get', 'pe', 'carts-response-time', '-n', namespace, '-o', 'json']),
    ) as ProblemEvent;
    expect(pe.status?.phase).toBeUndefined();
    await kubectl([
      'patch',
      'pe',
      'carts-response-time',
      '-n',
      namespace,
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      '{"status":{"phase":"Evaluating","currentAttempt":1,"currentAction":"scale +1"}}',
    ]);
    pe = JSON.parse(await kubectl(['get', 'pe', 'carts-response-time', '-n', namespace, '-o', 'json'])) as ProblemEvent;
    expect(pe.status).toMatchObject({ phase: 'Evaluating', currentAttempt: 1, currentAction: 'scale +1' });
    const row = (await kubectl(['get', 'pe', 'carts-response-time', '-n', namespace, '--no-headers']))
      .trim()
      .split(/\s{2,}/);
    expect(row.slice(0, 8)).toEqual([
      'carts-response-time',
      'sockshop',
      'production',
      'carts',
      'Response time degradation',
      'Evaluating',
      '1',
      'scale +1',
    ]);
  });

  it('rejects an unknown phase in status', async () => {
    const message = await kubectlFailure([
      'patch',
      'pe',
      'carts-response-time',
      '-n',
      namespace,
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      '{"status":{"phase":"Done"}}',
    ]);
    expect(message).toContain('status.phase: Unsupported value: "Done"');
  });
});

describe('Remediation', () => {
  it.each([
    [[{ name: 's', action: 'scale', value: 'one' }], 'a scale value must be N, +N or -N'],
    [[{ name: 's', action: 'scaling', value: '1.5' }], 'a scale value must be N, +N or -N'],
    [
      [{ name: 'f', action: 'featuretoggle', value: 'EnablePromotion:maybe' }],
      'a featuretoggle value must be Flag:on or Flag:off',
    ],
    // Only an executor's action may go without a value.
    [[{ name: 's', action: 'scale' }], 'a scale value must be N, +N or -N'],
    [[{ name: 'f', action: 'featuretoggle' }], 'a featuretoggle value must be Flag:on or Flag:off'],
  ])('rejects %j', async (actions, message) => {
    expect(await kubectlFailure(['apply', '-f', '-'], remediation('bad-value', actions))).toContain(message);
  });

  it("takes an executor's action without a value, a map value as it is, and several flags in one featuretoggle", async () => {
    await kubectl(
      ['apply', '-f', '-'],
      remediation('keptn-values', [
        { name: 'restart', action: 'restart' },
        {
          name: 'job',
          action: 'run-job',
          value: '{"image":"busybox"}',
          valueMap: { image: 'busybox', args: ['sleep', '1'] },
        },
        { name: 'flags', action: 'featuretoggle', value: 'EnableItemCache:on,EnablePromotion:off' },
      ]),
    );
    const stored = JSON.parse(
      await kubectl(['get', 'remediation', 'keptn-values', '-n', namespace, '-o', 'json']),
    ) as Remediation;
    expect(stored.spec.remediations[0]?.actionsOnOpen).toEqual([
      { name: 'restart', action: 'restart', value: '' },
      {
        name: 'job',
        action: 'run-job',
        value: '{"image":"busybox"}',
        valueMap: { image: 'busybox', args: ['sleep', '1'] },
      },
      { name: 'flags', action: 'featuretoggle', value: 'EnableItemCache:on,EnablePromotion:off' },
    ]);
  });

  it('rejects minReplicas above maxReplicas and a values file outside the repository', async () => {
    const message = await kubectlFailure(
      ['apply', '-f', '-'],
      remediation('bad-limits', [{ name: 's', action: 'scale', value: '+1' }], {
        limits: { minReplicas: 5, maxReplicas: 2 },
        values: { file: 'carts/../../etc/passwd' },
      }),
    );
    expect(message).toContain('minReplicas must not be greater than maxReplicas');
    expect(message).toContain('must not contain ..');
  });

  it('rejects a service name that is not a DNS-1123 label', async () => {
    const text = remediation('bad-service', [{ name: 's', action: 'scale', value: '+1' }]).replace(
      'service: carts',
      'service: Carts',
    );
    expect(await kubectlFailure(['apply', '-f', '-'], text)).toContain('spec.service in body should match');
  });
});

describe('Notification', () => {
  const notification = (name: string, sink: Record<string, unknown>): string =>
    stringify({
      apiVersion: 'rebound.dev/v1alpha1',
      kind: 'Notification',
      metadata: { name, namespace },
      spec: { sink },
    });

  it('rejects a slack sink without a channel, a sink with nowhere to send, and mode outside cloudevents', async () => {
    expect(
      await kubectlFailure(
        ['apply', '-f', '-'],
        notification('no-channel', { type: 'slack', secretRef: { name: 's' } }),
      ),
    ).toContain('a slack sink needs a channel');
    expect(await kubectlFailure(['apply', '-f', '-'], notification('nowhere', { type: 'webhook' }))).toContain(
      'a url, or a secretRef whose Secret holds one, is needed',
    );
    expect(
      await kubectlFailure(
        ['apply', '-f', '-'],
        notification('mode', { type: 'webhook', url: 'https://h.example/x', mode: 'binary' }),
      ),
    ).toContain('mode is for cloudevents sinks');
    expect(
      await kubectlFailure(
        ['apply', '-f', '-'],
        notification('bad-type', { type: 'email', url: 'https://h.example/x' }),
      ),
    ).toContain('Unsupported value: "email"');
  });
});
