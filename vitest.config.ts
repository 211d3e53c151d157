import { configDefaults, defineConfig } from 'vitest/config';

// Files that run `rebound controller` (which watches every namespace and takes the leader Lease):
// they run one at a time, after the other integration tests, so no controller ever acts on another
// file's objects.
const E2E = [
  'test/integration/loop.test.ts',
  'test/integration/loop-*.test.ts',
  'test/integration/controller-*.test.ts',
  'test/integration/demo.test.ts',
  'test/integration/manifests.test.ts',
];

// Three projects: fast unit tests beside the code; integration tests under test/ that talk to the
// real parts (kube-apiserver, etcd, helm, git http-backend, Prometheus, Alertmanager) started by the
// global set-up on loopback; and the end-to-end files that also run the controller.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/harness/**/*.test.ts', 'dev/**/*.test.ts'],
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
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
