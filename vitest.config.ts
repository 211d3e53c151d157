import { configDefaults, defineConfig } from 'vitest/config';

// Files that run `rebound controller` (it watches every namespace and takes the leader Lease): they
// run after the other integration tests, two at a time, each worker (a lane) on a cluster of its
// own (test/harness/lane.ts), so no controller ever acts on another file's objects. The demo's test
// is not one of them: the demo starts a cluster and a controller of its own, so it runs beside the
// integration files.
const E2E = [
  'test/integration/loop.test.ts',
  'test/integration/loop-*.test.ts',
  'test/integration/controller-*.test.ts',
  'test/integration/manifests.test.ts',
  'test/integration/image.test.ts',
  'test/integration/upgrade.test.ts',
];

// Unit test files that leave the test process: they start child processes (the CLI, git, helm, a
// fake helm script), listen on loopback sockets, watch the file system or wait on real time. They are
// the `io` project, run by `make test`; everything else in `unit` is pure and runs in seconds for
// `make unit` / `make verify` (test/harness/unit-guard.ts refuses processes, sockets and watchers there).
const IO = [
  'src/cli/commands/plan.test.ts',
  'src/cli/commands/migrate.test.ts',
  'src/cli/commands/validate.test.ts',
  'src/cli/commands/validate-git.test.ts',
  'src/cli/commands/evaluate.test.ts',
  'src/apply/run-process.test.ts',
  'src/apply/helm.test.ts',
  'src/remediation/diff.test.ts',
  'src/config/token-file.test.ts',
  'src/runtime/http-server.test.ts',
  'src/observability/health.test.ts',
  'src/evaluation/providers/prometheus.test.ts',
  'src/evaluation/providers/prometheus-range.test.ts',
  'src/ingest/action-callbacks.test.ts',
  'src/ingest/git-hook.test.ts',
  'src/ingest/keptn-api.test.ts',
  'src/ingest/server.test.ts',
  'src/ui/server.test.ts',
  'src/actions/keptn-action-event.test.ts',
  'src/actions/keptn-executor.test.ts',
  'src/actions/unleash.test.ts',
  'src/actions/webhook.test.ts',
  'src/actions/webhook-call.test.ts',
  'src/forge/forge.test.ts',
  'src/notify/sinks.test.ts',
  'src/kube/http.test.ts',
  'test/harness/process.test.ts',
  'test/harness/ports.test.ts',
  'test/harness/sample-workload.test.ts',
];
const UNIT = ['src/**/*.test.ts', 'test/harness/**/*.test.ts', 'dev/**/*.test.ts'];

// Four projects: pure unit tests beside the code; the unit tests that use the machine (`io`);
// integration tests under test/ that talk to the real parts (kube-apiserver, etcd, helm, git
// http-backend, Prometheus, Alertmanager) started by the global set-up on loopback; and the
// end-to-end files that also run the controller.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: UNIT,
          exclude: [...configDefaults.exclude, ...IO],
          environment: 'node',
          setupFiles: ['test/harness/unit-guard.ts'],
        },
      },
      {
        test: {
          name: 'io',
          include: IO,
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // Keep vitest's default exclusions: test/unleash/node_modules holds packages' own tests.
          exclude: [...configDefaults.exclude, 'test/harness/**', ...E2E],
          environment: 'node',
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: the real servers need CPU too.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e',
          include: E2E,
          environment: 'node',
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One lane per worker, each with its own cluster; two cores: the real parts need CPU too.
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
