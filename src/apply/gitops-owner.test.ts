import { describe, expect, it } from 'vitest';
import { gitOpsOwnerOf } from './gitops-owner.ts';

describe('gitOpsOwnerOf', () => {
  it.each([
    [
      {
        labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' },
      },
      'Deployment carts is managed by Flux Kustomization flux-system/apps',
    ],
    [
      { labels: { 'helm.toolkit.fluxcd.io/name': 'carts', 'helm.toolkit.fluxcd.io/namespace': 'sockshop' } },
      'Deployment carts is managed by Flux HelmRelease sockshop/carts',
    ],
    [
      { annotations: { 'argocd.argoproj.io/tracking-id': 'carts-prod:apps/Deployment:sockshop/carts' } },
      'Deployment carts is managed by Argo CD Application carts-prod',
    ],
    [
      { labels: { 'argocd.argoproj.io/instance': 'carts-prod' } },
      'Deployment carts is managed by Argo CD Application carts-prod',
    ],
    // Helm's own labels are not an engine: `app.kubernetes.io/instance` is set by every chart.
    [{ labels: { 'app.kubernetes.io/instance': 'carts', 'app.kubernetes.io/managed-by': 'Helm' } }, undefined],
    [{}, undefined],
  ])('%j → %s', (meta, owner) => {
    expect(gitOpsOwnerOf('Deployment', { name: 'carts', ...meta })).toBe(owner);
  });
});
