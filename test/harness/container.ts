// The controller image run the way its Deployment runs it, with podman: the pod's and container's
// security settings from manifests/deployment.yaml become podman flags, emptyDir volumes become
// tmpfs mounts, Secret volumes are bind-mounted read-only, and the ServiceAccount token is where a
// Pod has it (/var/run/secrets/kubernetes.io/serviceaccount) with KUBERNETES_SERVICE_HOST/PORT set,
// so the client and helm take the in-cluster path. Host network, and the test gives loopback
// addresses only. The host preparation podman needs here is test/image/podman-host.sh.
import { join } from 'node:path';
import { homedir } from 'node:os';
import { runCommand, startProcess } from './process.ts';
import type { ManagedProcess, RunResult } from './process.ts';

export interface PodSpecSecurity {
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    runAsNonRoot?: boolean;
    seccompProfile?: { type?: string };
  };
  volumes?: { name: string; emptyDir?: { sizeLimit?: string }; secret?: { secretName: string } }[];
}

export interface ContainerSecurity {
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** Where podman reads its settings for these tests (written by test/image/podman-host.sh). */
export function containersConf(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env['CONTAINERS_CONF'] ??
    join(env['REBOUND_CACHE_DIR'] ?? join(homedir(), '.cache', 'rebound'), 'podman', 'containers.conf')
  );
}

const SIZE_UNITS: Record<string, string> = { Ki: 'k', Mi: 'm', Gi: 'g' };

/**
 * podman flags for the Deployment's security settings and volumes. `secretDirs` maps a Secret's name
 * to a host directory holding its keys as files. Throws on a setting it cannot honour, so a new field
 * in the manifest is not silently dropped from the test.
 */
export function podmanSecurityArgs(
  pod: PodSpecSecurity,
  container: ContainerSecurity,
  secretDirs: Record<string, string>,
): string[] {
  const args: string[] = [];
  const podSc = pod.securityContext ?? {};
  if (podSc.runAsUser === undefined) throw new Error('the pod sets no runAsUser');
  args.push(`--user=${String(podSc.runAsUser)}:${String(podSc.runAsGroup ?? podSc.runAsUser)}`);
  if (podSc.fsGroup !== undefined) args.push(`--group-add=${String(podSc.fsGroup)}`);
  const seccomp = podSc.seccompProfile?.type;
  // podman's default seccomp profile is the runtime default; anything else is not modelled here.
  if (seccomp !== undefined && seccomp !== 'RuntimeDefault')
    throw new Error(`seccompProfile ${seccomp} is not modelled`);

  const sc = container.securityContext ?? {};
  // Only the declared volumes are writable: no tmpfs of podman's own on /tmp, /run, /var/tmp.
  if (sc.readOnlyRootFilesystem === true) args.push('--read-only', '--read-only-tmpfs=false');
  if (sc.allowPrivilegeEscalation === false) args.push('--security-opt=no-new-privileges');
  for (const cap of sc.capabilities?.drop ?? []) args.push(`--cap-drop=${cap}`);
  for (const cap of sc.capabilities?.add ?? []) args.push(`--cap-add=${cap}`);

  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.emptyDir !== undefined) {
      const limit = volume.emptyDir.sizeLimit?.replace(
        /^(\d+)(Ki|Mi|Gi)$/,
        (_, n: string, unit: string) => `${n}${SIZE_UNITS[unit] ?? ''}`,
      );
      // An emptyDir is a world-writable directory; tmpfs defaults to noexec, an emptyDir is not.
      args.push(`--tmpfs=${mount.mountPath}:rw,exec,mode=1777${limit === undefined ? '' : `,size=${limit}`}`);
    } else if (volume?.secret !== undefined) {
      const dir = secretDirs[volume.secret.secretName];
      if (dir === undefined) throw new Error(`no host directory for Secret ${volume.secret.secretName}`);
      args.push(`--volume=${dir}:${mount.mountPath}:ro`);
    } else {
      throw new Error(`volume ${mount.name} is neither an emptyDir nor a Secret`);
    }
  }
  return args;
}

export function podman(
  args: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return runCommand('podman', args, {
    timeoutMs: options.timeoutMs ?? 60_000,
    env: { ...process.env, CONTAINERS_CONF: containersConf() },
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

export interface RunningContainer {
  name: string;
  process: ManagedProcess;
  /** `podman exec` in the running container. */
  exec(args: readonly string[]): Promise<RunResult>;
  /** Stops the container (SIGTERM through podman, then removal). Idempotent. */
  stop(): Promise<void>;
}

/** `podman run --rm --network host` of `image` with these flags and arguments, in the foreground. */
export async function runContainer(options: {
  name: string;
  image: string;
  podmanArgs: readonly string[];
  args: readonly string[];
}): Promise<RunningContainer> {
  const env = { ...process.env, CONTAINERS_CONF: containersConf() };
  const child = await startProcess({
    name: `container ${options.name}`,
    command: 'podman',
    args: [
      'run',
      '--rm',
      '--name',
      options.name,
      '--network=host',
      '--pull=never',
      ...options.podmanArgs,
      options.image,
      ...options.args,
    ],
    env,
    keepLines: 400,
  });
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    process: child,
    exec: (args) => podman(['exec', options.name, ...args]),
    stop: () =>
      (stopping ??= (async () => {
        await podman(['stop', '--time=15', options.name], { timeoutMs: 30_000 }).catch(() => undefined);
        await child.stop(5_000);
        await podman(['rm', '--force', '--ignore', options.name]).catch(() => undefined);
      })()),
  };
}
