// Every action the loop can take, built once at start-up: values edits applied by the stage's
// applier (helm, kubernetes, flux, argocd, none), webhooks, and, with an executor sink, Keptn-style
// external actions and the shipyard sequence's tasks after the action. The composition root
// (wire.ts) hands in the settings; nothing here reads the configuration itself.
import type { KubeConfig } from '@kubernetes/client-node';
import { createAppliers, deploymentOwner } from '../apply/index.ts';
import type { HelmApplierOptions } from '../apply/helm.ts';
import type { SecretReader } from '../kube/secrets.ts';
import type { Clock } from '../runtime/clock.ts';
import { KeptnExecutorAction } from './keptn-executor.ts';
import { KeptnTaskDispatcher } from './keptn-task.ts';
import { actionRegistry } from './registry.ts';
import type { ActionRegistry } from './types.ts';
import { FeatureToggleAction, ScaleAction } from './values.ts';
import { WebhookAction } from './webhook.ts';

export interface ActionsSetup {
  kubeConfig: KubeConfig;
  helm: HelmApplierOptions;
  /** Where charts are materialised for helm. */
  workDir: string;
  secrets: SecretReader;
  clock: Clock;
  /** How long each helm upgrade took, for `rebound_helm_duration_seconds`. */
  helmUpgrade: (result: 'success' | 'error', seconds: number) => void;
  /** Where runbooks call back (the webhook server), when there is one. */
  callbackBaseUrl: () => string | undefined;
  /** --action-sink: the executor that takes actions outside Git and the sequence's tasks. */
  sink?: { url: string; actionTimeoutMs: number; taskTimeoutMs: number; token?: () => string | undefined };
}

export function createActions(deps: ActionsSetup): { actions: ActionRegistry; tasks?: KeptnTaskDispatcher } {
  const valuesOptions = {
    appliers: createAppliers({ kubeConfig: deps.kubeConfig, helm: deps.helm }),
    workDir: deps.workDir,
    secrets: deps.secrets,
    helmUpgrade: deps.helmUpgrade,
    gitOpsOwner: deploymentOwner(deps.kubeConfig),
  };
  const { sink, clock } = deps;
  const token = sink?.token ? { token: sink.token } : {};
  const actions = actionRegistry({
    scale: new ScaleAction(valuesOptions),
    featuretoggle: new FeatureToggleAction(valuesOptions),
    webhook: new WebhookAction({ secrets: deps.secrets, clock, callbackBaseUrl: deps.callbackBaseUrl }),
    ...(sink
      ? { external: new KeptnExecutorAction({ sinkUrl: sink.url, timeoutMs: sink.actionTimeoutMs, clock, ...token }) }
      : {}),
  });
  if (!sink) return { actions };
  // The shipyard sequence's tasks after the action go to the same executor sink.
  return {
    actions,
    tasks: new KeptnTaskDispatcher({ sinkUrl: sink.url, timeoutMs: sink.taskTimeoutMs, clock, ...token }),
  };
}
