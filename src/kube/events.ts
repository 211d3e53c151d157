// Kubernetes Events (events.k8s.io/v1) for `kubectl describe`: one per step of a remediation
// (committed, applied, evaluated, escalated). Recording never fails the caller: an Event is
// informational, so errors are logged and swallowed here, the one place that decides so.
import { EventsV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.ts';
import { classifyKubeError } from './errors.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  /**
   * `reason` is PascalCase (a condition reason); `action` what was done (e.g. `Commit`, `Apply`);
   * `note` a short human message (no secrets). Resolves once written or given up.
   */
  record(subject: EventSubject, type: EventType, reason: string, action: string, note: string): Promise<void>;
}

export interface EventRecorderOptions {
  /** reportingController, e.g. `rebound.dev/controller`. */
  controller: string;
  /** reportingInstance: this replica's identity. */
  instance: string;
  clock: Clock;
  log: Logger;
}

const NOTE_LIMIT = 1024;

export function kubeEventRecorder(kc: KubeConfig, options: EventRecorderOptions): EventRecorder {
  const api = kc.makeApiClient(EventsV1Api);
  let seq = 0;
  return {
    async record(subject, type, reason, action, note) {
      const namespace = subject.metadata.namespace ?? 'default';
      const subjectName = subject.metadata.name ?? 'unknown';
      const now = options.clock.now();
      // Unique per event; Events are not de-duplicated into series here (one per step is few).
      const name = `${subjectName}.${now.toString(16)}${(seq++ % 0x10000).toString(16).padStart(4, '0')}`;
      try {
        await api.createNamespacedEvent({
          namespace,
          body: {
            apiVersion: 'events.k8s.io/v1',
            kind: 'Event',
            metadata: { name, namespace },
            eventTime: new V1MicroTime(now),
            reportingController: options.controller,
            reportingInstance: options.instance,
            action,
            reason,
            type,
            note: note.length > NOTE_LIMIT ? `${note.slice(0, NOTE_LIMIT - 3)}...` : note,
            regarding: {
              apiVersion: subject.apiVersion,
              kind: subject.kind,
              name: subjectName,
              namespace,
              ...(subject.metadata.uid ? { uid: subject.metadata.uid } : {}),
              ...(subject.metadata.resourceVersion ? { resourceVersion: subject.metadata.resourceVersion } : {}),
            },
          },
        });
      } catch (err) {
        options.log.warn({ err: classifyKubeError(err, 'create event'), reason, kind: subject.kind, name: subjectName }, 'recording event failed');
      }
    },
  };
}
