// Which implementation carries out which action type: values edits for scale/scaling and
// featuretoggle, the webhook caller for `webhook`, and, when a sink is configured, an external
// executor for every other type (Keptn's way of adding actions without changing the core).
import { ACTIONS, WEBHOOK_ACTION } from '../api/index.ts';
import type { ActionHandler, ActionRegistry } from './types.ts';

export interface ActionHandlers {
  scale: ActionHandler;
  featuretoggle: ActionHandler;
  webhook: ActionHandler;
  /** Absent when no executor sink is configured: unknown types are then refused. */
  external?: ActionHandler;
}

export function actionRegistry(handlers: ActionHandlers): ActionRegistry {
  const builtIn = new Map<string, ActionHandler>([
    [ACTIONS.scale, handlers.scale],
    [ACTIONS.scaling, handlers.scale],
    [ACTIONS.featuretoggle, handlers.featuretoggle],
    [WEBHOOK_ACTION, handlers.webhook],
  ]);
  return {
    handlerFor: (action) => builtIn.get(action) ?? handlers.external,
    builtIn: [...builtIn.keys()],
    external: handlers.external !== undefined,
  };
}
