// Flux's source-controller and kustomize-controller (built from their Go modules by `make setup`)
// running on loopback against a local cluster: the GitOps engine that syncs a stage branch in the
// tests of `apply: flux`. Each controller gets the admin kubeconfig, metrics and health on free
// loopback ports, and no leader election; source-controller serves the artifacts it fetched from the
// Git server on a loopback port kustomize-controller downloads them from. Flux's CRDs
// (source-controller's kinds and Kustomization), copied next to the binaries by the build, are
// installed first.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrds } from './cluster.ts';
import { LOOPBACK, freePorts, retryOnAddressInUse } from './ports.ts';
import { type ManagedProcess, httpOk, registerTempDir, removeTempDir, startProcess, waitUntil } from './process.ts';
import { toolPath, toolsDir } from './tools.ts';

export const FLUX_NAMESPACE = 'flux-system';

/** Where build.sh puts the CRDs of the Flux version it built. */
export function fluxCrdsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(toolsDir(env), 'flux-crds');
}

export interface StartFluxOptions {
  /** An admin kubeconfig of the cluster the controllers reconcile. */
  kubeconfigPath: string;
  /** Install the CRDs (default true; false when they are already there, e.g. on a restart). */
  installCrds?: boolean;
  startTimeoutMs?: number;
}

export interface LocalFlux {
  /** Stops kustomize-controller only: the engine is "down" for applying while sources still fetch. */
  stopKustomizeController(): Promise<void>;
  /** Starts kustomize-controller again after stopKustomizeController(). */
  startKustomizeController(): Promise<void>;
  /** Stops both controllers and removes their files. Idempotent. */
  stop(): Promise<void>;
}

interface Controller {
  name: 'source-controller' | 'kustomize-controller';
  args: (ports: { metrics: number; health: number; storage: number }, dir: string) => string[];
}

const COMMON = (ports: { metrics: number; health: number }): string[] => [
  `--metrics-addr=${LOOPBACK}:${String(ports.metrics)}`,
  `--health-addr=${LOOPBACK}:${String(ports.health)}`,
  '--enable-leader-election=false',
  '--watch-all-namespaces=true',
  '--log-level=info',
  '--log-encoding=json',
];

export async function startFlux(options: StartFluxOptions): Promise<LocalFlux> {
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  if (options.installCrds ?? true) await installCrds(options.kubeconfigPath, fluxCrdsDir(), timeoutMs);
  const dir = await mkdtemp(join(tmpdir(), 'rebound-flux-'));
  registerTempDir(dir);
  // The artifact server's port is fixed for the life of the harness: artifacts already recorded in
  // GitRepository statuses name it, so a restarted kustomize-controller still finds them.
  let storagePort = 0;
  const running = new Map<Controller['name'], ManagedProcess>();
  const env = { ...process.env, KUBECONFIG: options.kubeconfigPath, RUNTIME_NAMESPACE: FLUX_NAMESPACE };

  const start = (controller: Controller): Promise<void> =>
    retryOnAddressInUse(async () => {
      const [metrics = 0, health = 0, storage = 0] = await freePorts(3);
      if (storagePort === 0) storagePort = storage;
      const workDir = join(dir, controller.name);
      // source-controller refuses a storage path that does not exist yet.
      await mkdir(join(workDir, 'artifacts'), { recursive: true });
      const proc = await startProcess({
        name: controller.name,
        command: toolPath(controller.name),
        args: [...COMMON({ metrics, health }), ...controller.args({ metrics, health, storage: storagePort }, workDir)],
        env,
        cwd: workDir,
      });
      try {
        await waitUntil(`${controller.name} /readyz`, () => httpOk(`http://${LOOPBACK}:${String(health)}/readyz`), {
          timeoutMs,
          intervalMs: 200,
          process: proc,
        });
      } catch (err) {
        await proc.stop();
        throw err;
      }
      running.set(controller.name, proc);
    });

  const source: Controller = {
    name: 'source-controller',
    args: (ports, workDir) => [
      `--storage-path=${join(workDir, 'artifacts')}`,
      `--storage-addr=${LOOPBACK}:${String(ports.storage)}`,
      `--storage-adv-addr=${LOOPBACK}:${String(ports.storage)}`,
    ],
  };
  const kustomize: Controller = {
    name: 'kustomize-controller',
    // Remote bases would reach the internet; the tests never use them.
    args: () => ['--no-remote-bases=true'],
  };

  const stopOne = async (name: Controller['name']): Promise<void> => {
    const proc = running.get(name);
    running.delete(name);
    await proc?.stop();
  };
  let stopping: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    await stopOne('kustomize-controller');
    await stopOne('source-controller');
    await removeTempDir(dir);
  };
  try {
    await start(source);
    await start(kustomize);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    stopKustomizeController: () => stopOne('kustomize-controller'),
    startKustomizeController: () => start(kustomize),
    stop: () => (stopping ??= stopAll()),
  };
}
