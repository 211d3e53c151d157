import { describe, expect, it } from 'vitest';
import { podmanSecurityArgs } from './container.ts';
import type { ContainerSecurity, PodSpecSecurity } from './container.ts';

const pod: PodSpecSecurity = {
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    fsGroup: 65532,
    seccompProfile: { type: 'RuntimeDefault' },
  },
  volumes: [
    { name: 'work', emptyDir: { sizeLimit: '2Gi' } },
    { name: 'tmp', emptyDir: {} },
    { name: 'token', secret: { secretName: 'hook' } },
  ],
};
const container: ContainerSecurity = {
  securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  volumeMounts: [
    { name: 'work', mountPath: '/var/lib/rebound' },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'token', mountPath: '/etc/hook', readOnly: true },
  ],
};

describe('podmanSecurityArgs', () => {
  it('turns the pod and container security settings and volumes into podman flags', () => {
    expect(podmanSecurityArgs(pod, container, { hook: '/host/hook' })).toEqual([
      '--user=65532:65532',
      '--group-add=65532',
      '--read-only',
      '--read-only-tmpfs=false',
      '--security-opt=no-new-privileges',
      '--cap-drop=ALL',
      '--tmpfs=/var/lib/rebound:rw,exec,mode=1777,size=2g',
      '--tmpfs=/tmp:rw,exec,mode=1777',
      '--volume=/host/hook:/etc/hook:ro',
    ]);
  });

  it('keeps a writable root when the manifest does not ask for a read-only one', () => {
    expect(podmanSecurityArgs(pod, { ...container, securityContext: {} }, { hook: '/h' })).not.toContain('--read-only');
  });

  it('refuses what it cannot honour rather than dropping it', () => {
    expect(() => podmanSecurityArgs({ ...pod, securityContext: {} }, container, { hook: '/h' })).toThrow(/runAsUser/);
    expect(() =>
      podmanSecurityArgs(
        { ...pod, securityContext: { runAsUser: 1, seccompProfile: { type: 'Unconfined' } } },
        container,
        { hook: '/h' },
      ),
    ).toThrow(/seccomp/);
    expect(() => podmanSecurityArgs(pod, container, {})).toThrow(/Secret hook/);
    expect(() => podmanSecurityArgs({ ...pod, volumes: [] }, container, { hook: '/h' })).toThrow(/neither/);
  });
});
