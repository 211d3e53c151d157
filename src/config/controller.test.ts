import { describe, expect, it } from 'vitest';
import { parseControllerConfig, tracingConfig } from './controller.ts';

const env = { POD_NAMESPACE: 'rebound-system', POD_NAME: 'rebound-controller-abc' };
const WEBHOOKS = ['--webhook-address=127.0.0.1:8080', '--webhook-token-file=/var/run/rebound/token'];

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
      workers: 32,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      turnPollMs: 300_000,
      leaderElectionName: 'rebound-controller',
      watchLabelSelector: undefined,
    });
  });

  it('watches one shard with its own leader Lease, named after the selector unless named', () => {
    const eu = parseControllerConfig(['--watch-label-selector=rebound.dev/shard=eu'], env);
    const us = parseControllerConfig(['--watch-label-selector', 'rebound.dev/shard in (us, ca)'], env);
    const rest = parseControllerConfig(['--watch-label-selector=!rebound.dev/shard'], env);
    expect(eu.watchLabelSelector).toBe('rebound.dev/shard=eu');
    expect(us.watchLabelSelector).toBe('rebound.dev/shard in (us, ca)');
    const names = [eu, us, rest].map((c) => c.leaderElectionName);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^rebound-controller-[0-9a-f]{10}$/);
    expect(parseControllerConfig(['--watch-label-selector=rebound.dev/shard=eu'], env).leaderElectionName).toBe(
      eu.leaderElectionName,
    );
    expect(
      parseControllerConfig(['--watch-label-selector=rebound.dev/shard=eu', '--leader-election-name=rebound-eu'], env)
        .leaderElectionName,
    ).toBe('rebound-eu');
  });

  it('reads durations and switches', () => {
    const config = parseControllerConfig(
      ['--no-leader-elect', '--lease-duration=3s', '--turn-poll=500ms', '--helm-timeout=90s', '--evaluation-wait=4s'],
      env,
    );
    expect(config).toMatchObject({
      leaderElect: false,
      leaseDurationMs: 3_000,
      turnPollMs: 500,
      helmTimeoutSeconds: 90,
      evaluationWait: '4s',
    });
  });

  it('leaves action callbacks and external executors off by default, with a 30 minute executor timeout', () => {
    const config = parseControllerConfig([], env);
    expect(config.callbackUrl).toBeUndefined();
    expect(config.actionSink).toBeUndefined();
    expect(config.actionSinkTokenFile).toBeUndefined();
    expect(config.actionTimeoutMs).toBe(30 * 60_000);
    expect(config.taskTimeoutMs).toBe(30 * 60_000);
  });

  it('reads the callback URL, the executor sink, its token file and timeout', () => {
    const config = parseControllerConfig(
      [
        ...WEBHOOKS,
        '--callback-url=https://rebound.example.com:8443',
        '--action-sink=http://job-executor.keptn.svc:8080/events',
        '--action-sink-token-file=/var/run/rebound/sink-token',
        '--action-timeout=1h30m',
      ],
      env,
    );
    expect(config).toMatchObject({
      callbackUrl: 'https://rebound.example.com:8443',
      actionSink: 'http://job-executor.keptn.svc:8080/events',
      actionSinkTokenFile: '/var/run/rebound/sink-token',
      actionTimeoutMs: 90 * 60_000,
      // Sequence tasks get the executors' timeout unless told otherwise.
      taskTimeoutMs: 90 * 60_000,
    });
    expect(
      parseControllerConfig([...WEBHOOKS, '--action-sink=http://x/events', '--task-timeout=10m'], env).taskTimeoutMs,
    ).toBe(10 * 60_000);
  });

  it.each([
    [['--webhook-address=127.0.0.1:8080'], /needs --webhook-token-file/],
    [['--git-webhook-secret-file=/s'], /needs --webhook-address/],
    [['--workers=0'], /--workers must be a whole number/],
    [['--evaluation-wait=soon'], /--evaluation-wait takes a duration/],
    [['--log-format=xml'], /--log-format must be json or pretty/],
    [['--prometheus-url=ftp://x'], /--prometheus-url must be an http\(s\) URL/],
    [['--callback-url=rebound.example.com:8080'], /--callback-url must be an http\(s\) URL/],
    [['--callback-url=https://rebound.example.com'], /--callback-url needs --webhook-address/],
    [['--callback-url=http://rebound example'], /--callback-url must be an http\(s\) URL/],
    [[...WEBHOOKS, '--action-sink=ftp://executors'], /--action-sink must be an http\(s\) URL/],
    [['--action-sink=http://executors.example.com/events'], /--action-sink needs --webhook-address/],
    [[...WEBHOOKS, '--action-sink-token-file=/var/run/sink-token'], /--action-sink-token-file needs --action-sink/],
    [
      [...WEBHOOKS, '--action-sink=http://executors.example.com/events', '--action-timeout=later'],
      /--action-timeout takes a duration/,
    ],
    [['--watch-label-selector=shard;rm'], /--watch-label-selector takes a label selector/],
    [['--watch-label-selector='], /--watch-label-selector takes a label selector/],
    [['--leader-election-name=Rebound_EU'], /--leader-election-name must be a DNS name/],
    [
      [...WEBHOOKS, '--action-sink=http://executors.example.com/events', '--task-timeout=soon'],
      /--task-timeout takes a duration/,
    ],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseControllerConfig(argv, env)).toThrow(message);
  });
});

describe('tracingConfig', () => {
  it('is off unless an endpoint is named', () => {
    expect(parseControllerConfig([], env).tracing).toBeUndefined();
    expect(tracingConfig(undefined, { OTEL_SERVICE_NAME: 'x' })).toBeUndefined();
  });

  it.each([
    ['the flag, a base URL', 'http://jaeger:4318/', {}, 'http://jaeger:4318/v1/traces'],
    [
      'the flag over the variables',
      'http://a:4318',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' },
      'http://a:4318/v1/traces',
    ],
    [
      'the traces endpoint as it is',
      undefined,
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c/otlp/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' },
      'https://c/otlp/traces',
    ],
    ['the base endpoint', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' }, 'http://b:4318/v1/traces'],
  ])('takes %s', (_what, flag, vars, url) => {
    expect(tracingConfig(flag, vars)).toEqual({ url, headers: {}, serviceName: 'rebound' });
  });

  it('reads the headers (URL-encoded values) and the service name', () => {
    expect(
      tracingConfig('http://a:4318', {
        OTEL_EXPORTER_OTLP_HEADERS: 'X-Api-Key=a%20b, tenant=t1',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'tenant=t2',
        OTEL_SERVICE_NAME: 'rebound-eu',
      }),
    ).toEqual({
      url: 'http://a:4318/v1/traces',
      headers: { 'x-api-key': 'a b', tenant: 't2' },
      serviceName: 'rebound-eu',
    });
  });

  it('is turned off by OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingConfig('http://a:4318', { OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingConfig('http://a:4318', { OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it.each([
    [['--otlp-endpoint=jaeger:4318'], {}, /--otlp-endpoint must be an http\(s\) URL/],
    [[], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTLP over HTTP/],
    [[], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign' }, /key=value/],
  ])('refuses %j %j', (argv, vars, message) => {
    expect(() => parseControllerConfig(argv, { ...env, ...vars })).toThrow(message);
  });
});
