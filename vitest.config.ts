import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code, and integration tests under test/ that talk to the
// real parts (kube-apiserver, etcd, helm, git http-backend, Prometheus, Alertmanager) started by
// the global set-up on loopback.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: the real servers need CPU too.
          maxWorkers: 2,
        },
      },
    ],
  },
});
