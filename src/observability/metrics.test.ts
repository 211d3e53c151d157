import { describe, expect, it } from 'vitest';
import { PHASES } from '../api/index.ts';
import { actionLabel, createMetrics } from './metrics.ts';

/** Parses the text exposition format into `name{labels} value` samples. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function metricNames(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('# TYPE '))
    .map((l) => l.split(' ')[2] ?? '');
}

describe('createMetrics', () => {
  it('names every metric with the rebound_ prefix, including process metrics', async () => {
    const metrics = createMetrics();
    const names = metricNames(await metrics.registry.metrics());
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(name).toMatch(/^rebound_[a-z0-9_]+$/);
    expect(names).toEqual(
      expect.arrayContaining([
        'rebound_problems',
        'rebound_remediation_attempts_total',
        'rebound_evaluations_total',
        'rebound_evaluation_duration_seconds',
        'rebound_git_operation_duration_seconds',
        'rebound_git_push_retries_total',
        'rebound_helm_duration_seconds',
        'rebound_workqueue_depth',
        'rebound_workqueue_queue_duration_seconds',
        'rebound_workqueue_work_duration_seconds',
        'rebound_workqueue_retries_total',
        'rebound_reconcile_total',
        'rebound_reconcile_errors_total',
        'rebound_reconcile_duration_seconds',
        'rebound_leader',
        'rebound_actions_running',
        'rebound_process_resident_memory_bytes',
        'rebound_nodejs_eventloop_lag_seconds',
      ]),
    );
    for (const name of names.filter((n) => n.endsWith('_total'))) expect(name).not.toMatch(/_total_total$/);
  });

  it('pre-initialises known series to zero', async () => {
    const s = samples(await createMetrics({ processMetrics: false }).registry.metrics());
    for (const phase of PHASES) expect(s.get(`rebound_problems{phase="${phase}"}`)).toBe(0);
    expect(s.get('rebound_remediation_attempts_total{action="scale",result="fail"}')).toBe(0);
    expect(s.get('rebound_evaluations_total{result="error"}')).toBe(0);
    expect(s.get('rebound_reconcile_total{controller="problemevent",result="terminal_error"}')).toBe(0);
    expect(s.get('rebound_workqueue_depth{name="problemevent"}')).toBe(0);
    expect(s.get('rebound_git_operation_duration_seconds_count{operation="push",result="success"}')).toBe(0);
    expect(s.get('rebound_git_push_retries_total')).toBe(0);
    expect(s.get('rebound_leader')).toBe(0);
    expect(s.get('rebound_actions_running')).toBe(0);
    expect(s.get('rebound_remediation_attempts_total{action="webhook",result="action_failed"}')).toBe(0);
  });

  it('reads the running background actions on every scrape', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let running = 3;
    metrics.observeBackgroundActions(() => running);
    expect(samples(await metrics.registry.metrics()).get('rebound_actions_running')).toBe(3);
    running = 0;
    expect(samples(await metrics.registry.metrics()).get('rebound_actions_running')).toBe(0);
  });

  it('records what the loop reports, with bounded labels', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let cache: { status?: { phase?: string } }[] = [
      { status: { phase: 'Resolved' } },
      { status: { phase: 'Evaluating' } },
    ];
    metrics.observeProblems(() => cache);
    expect(samples(await metrics.registry.metrics()).get('rebound_problems{phase="Resolved"}')).toBe(1);
    cache = [{}, { status: { phase: 'Evaluating' } }];
    metrics.attempt('scale', 'pass');
    metrics.attempt('restart-the-world', 'apply_failed');
    metrics.evaluation('fail', 1.5);
    metrics.gitOperation('push', 'success', 0.2);
    metrics.gitPushRetry();
    metrics.helmOperation('upgrade', 'error', 12);
    const q = metrics.queue('problemevent');
    q.added();
    q.depth(3);
    q.queued(0.01);
    q.retried();
    metrics.controller.reconciled('problemevent', 'error', 0.3);
    metrics.controller.reconcileError('problemevent', 'GitUnreachable');
    metrics.setLeader(true);

    const s = samples(await metrics.registry.metrics());
    expect(s.get('rebound_problems{phase="Evaluating"}')).toBe(1);
    expect(s.get('rebound_problems{phase="Resolved"}')).toBe(0); // counted afresh on each scrape
    expect(s.get('rebound_problems{phase="Pending"}')).toBe(1); // no status yet
    expect(s.get('rebound_remediation_attempts_total{action="scale",result="pass"}')).toBe(1);
    expect(s.get('rebound_remediation_attempts_total{action="other",result="apply_failed"}')).toBe(1);
    expect(s.get('rebound_evaluations_total{result="fail"}')).toBe(1);
    expect(s.get('rebound_evaluation_duration_seconds_sum{result="fail"}')).toBe(1.5);
    expect(s.get('rebound_git_operation_duration_seconds_count{operation="push",result="success"}')).toBe(1);
    expect(s.get('rebound_git_push_retries_total')).toBe(1);
    expect(s.get('rebound_helm_duration_seconds_count{operation="upgrade",result="error"}')).toBe(1);
    expect(s.get('rebound_workqueue_depth{name="problemevent"}')).toBe(3);
    expect(s.get('rebound_workqueue_adds_total{name="problemevent"}')).toBe(1);
    expect(s.get('rebound_workqueue_retries_total{name="problemevent"}')).toBe(1);
    expect(s.get('rebound_reconcile_total{controller="problemevent",result="error"}')).toBe(1);
    expect(s.get('rebound_reconcile_errors_total{controller="problemevent",reason="GitUnreachable"}')).toBe(1);
    expect(s.get('rebound_leader')).toBe(1);
  });

  it('keeps registries independent (no global state)', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.gitPushRetry();
    expect(samples(await b.registry.metrics()).get('rebound_git_push_retries_total')).toBe(0);
  });

  it('maps free-form action names onto a bounded set', () => {
    expect(['scale', 'scaling', 'featuretoggle', 'kill-all-pods'].map(actionLabel)).toEqual([
      'scale',
      'scaling',
      'featuretoggle',
      'other',
    ]);
  });
});
