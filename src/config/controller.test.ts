import { describe, expect, it } from 'vitest';
import { parseControllerConfig } from './controller.ts';

const env = { POD_NAMESPACE: 'rebound-system', POD_NAME: 'rebound-controller-abc' };

describe('parseControllerConfig', () => {
  it('has sane defaults: leader election on, metrics on loopback, webhooks off, Keptn’s 2 minute wait', () => {
    const config = parseControllerConfig([], env);
    expect(config).toMatchObject({
      leaderElect: true,
      leaderElectionNamespace: 'rebound-system',
      identity: 'rebound-controller-abc',
      metricsAddress: '127.0.0.1:9090',
      webhookAddress: '',
      problemNamespace: 'rebound-system',
      evaluationWait: '2m',
      workers: 4,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  it('reads durations and switches', () => {
    const config = parseControllerConfig(['--no-leader-elect', '--lease-duration=3s', '--turn-poll=500ms', '--helm-timeout=90s', '--evaluation-wait=4s'], env);
    expect(config).toMatchObject({ leaderElect: false, leaseDurationMs: 3_000, turnPollMs: 500, helmTimeoutSeconds: 90, evaluationWait: '4s' });
  });

  it.each([
    [['--webhook-address=127.0.0.1:8080'], /needs --webhook-token-file/],
    [['--git-webhook-secret-file=/s'], /needs --webhook-address/],
    [['--workers=0'], /--workers must be a whole number/],
    [['--evaluation-wait=soon'], /--evaluation-wait takes a duration/],
    [['--log-format=xml'], /--log-format must be json or pretty/],
    [['--prometheus-url=ftp://x'], /--prometheus-url must be an http\(s\) URL/],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseControllerConfig(argv, env)).toThrow(message);
  });
});
