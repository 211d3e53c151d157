// Kubernetes Events (events.k8s.io/v1) for `kubectl describe`: one per step of a remediation
// (committed, applied, evaluated, escalated). The same event repeated for the same object within
// the series window (a step retried with backoff) updates the first Event's `series` count
// instead of creating another object, as client-go's recorder does, so a failing retry loop
// cannot flood etcd. Recording never fails the caller: an Event is informational, so errors are
// logged and swallowed here, the one place that decides so.
import { EventsV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.ts';
import { SharedConnection } from './connection.ts';
import { classifyKubeError, isNotFound } from './errors.ts';

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
  /** Repeats within this window join the first Event's series. Default 10 minutes. */
  seriesWindowMs?: number;
  /** Distinct recent events remembered for series; the oldest is forgotten first. Default 4096. */
  maxTracked?: number;
}

const NOTE_LIMIT = 1024;

interface Tracked {
  namespace: string;
  name: string;
  firstSeen: number;
  count: number;
}

export function kubeEventRecorder(
  kc: KubeConfig,
  options: EventRecorderOptions,
  connection = new SharedConnection(kc),
): EventRecorder {
  const api = kc.makeApiClient(EventsV1Api);
  const windowMs = options.seriesWindowMs ?? 600_000;
  const maxTracked = options.maxTracked ?? 4096;
  // Insertion-ordered: the first key is the oldest, evicted when full.
  const recent = new Map<string, Tracked>();
  let seq = 0;

  const create = async (
    subject: EventSubject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
    now: number,
  ): Promise<Tracked> => {
    const namespace = subject.metadata.namespace ?? 'default';
    const subjectName = subject.metadata.name ?? 'unknown';
    const name = `${subjectName}.${now.toString(16)}${(seq++ % 0x10000).toString(16).padStart(4, '0')}`;
    await api.createNamespacedEvent(
      {
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
          note,
          regarding: {
            apiVersion: subject.apiVersion,
            kind: subject.kind,
            name: subjectName,
            namespace,
            ...(subject.metadata.uid ? { uid: subject.metadata.uid } : {}),
            ...(subject.metadata.resourceVersion ? { resourceVersion: subject.metadata.resourceVersion } : {}),
          },
        },
      },
      await connection.options(),
    );
    return { namespace, name, firstSeen: now, count: 1 };
  };

  return {
    async record(subject, type, reason, action, rawNote) {
      const note = rawNote.length > NOTE_LIMIT ? `${rawNote.slice(0, NOTE_LIMIT - 3)}...` : rawNote;
      const now = options.clock.now();
      const identity = subject.metadata.uid ?? `${subject.metadata.namespace ?? ''}/${subject.metadata.name ?? ''}`;
      const key = JSON.stringify([subject.kind, identity, type, reason, action, note]);
      try {
        const seen = recent.get(key);
        if (seen && now - seen.firstSeen < windowMs) {
          seen.count++;
          try {
            await api.patchNamespacedEvent(
              {
                namespace: seen.namespace,
                name: seen.name,
                body: { series: { count: seen.count, lastObservedTime: new V1MicroTime(now) } },
              },
              await connection.mergePatch(),
            );
            return;
          } catch (err) {
            // The Event expired (TTL) or was deleted: start a new one below.
            if (!isNotFound(classifyKubeError(err, 'patch event'))) throw err;
          }
        }
        const tracked = await create(subject, type, reason, action, note, now);
        recent.delete(key);
        recent.set(key, tracked);
        if (recent.size > maxTracked) {
          const oldest = recent.keys().next();
          if (!oldest.done) recent.delete(oldest.value);
        }
      } catch (err) {
        options.log.warn(
          { err: classifyKubeError(err, 'record event'), reason, kind: subject.kind, name: subject.metadata.name },
          'recording event failed',
        );
      }
    },
  };
}
