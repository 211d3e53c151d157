// Kubernetes Events (events.k8s.io/v1) for `kubectl describe`: one per step of a remediation
// (committed, applied, evaluated, escalated). The same event repeated for the same object within
// the series window (a step retried with backoff) updates the first Event's `series` count
// instead of creating another object, as client-go's recorder does, so a failing retry loop
// cannot flood etcd. Recording never fails the caller: an Event is informational, so errors are
// logged and swallowed here, the one place that decides so.
//
// Events are written behind the work that caused them, a few at a time from one bounded queue
// (client-go's recorder writes from a queue of 1,000 too): in an alert storm the actions' own
// requests go first and the Events follow, instead of each action's two Events competing with the
// next actions for the API server. Past the bound, new Events are dropped and counted; the status
// holds the truth either way.
import { EventsV1Api, V1MicroTime, type KubeConfig } from '@kubernetes/client-node';
import type { EventsV1Event } from '@kubernetes/client-node';
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
   * `note` a short human message (no secrets). Resolves once written, given up or dropped.
   */
  record(subject: EventSubject, type: EventType, reason: string, action: string, note: string): Promise<void>;
}

/** What became of one recorded Event (for `rebound_kube_events_total`). */
export type EventResult = 'recorded' | 'failed' | 'dropped';

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
  /** Events written at once; the rest wait their turn in order. Default 4. */
  concurrency?: number;
  /** Events waiting at most; a new one past it is dropped. Default 1000. */
  maxQueued?: number;
  onResult?: (result: EventResult) => void;
}

/** Where Events go: the API server, or a fake in unit tests. */
export interface EventSink {
  create(event: EventsV1Event & { metadata: { name: string; namespace: string } }): Promise<void>;
  /** Rejects with a not-found KubeError when the Event is gone (expired or deleted). */
  patchSeries(namespace: string, name: string, count: number, lastObserved: Date): Promise<void>;
}

const NOTE_LIMIT = 1024;

interface Tracked {
  namespace: string;
  name: string;
  firstSeen: number;
  count: number;
  /** Settles true once the Event exists on the server, false if its create failed. */
  created: Promise<boolean>;
}

export function kubeEventRecorder(
  kc: KubeConfig,
  options: EventRecorderOptions,
  connection = new SharedConnection(kc),
): EventRecorder {
  return queuedEventRecorder(apiEventSink(kc, connection), options);
}

function apiEventSink(kc: KubeConfig, connection: SharedConnection): EventSink {
  const api = kc.makeApiClient(EventsV1Api);
  return {
    async create(event) {
      await api.createNamespacedEvent({ namespace: event.metadata.namespace, body: event }, await connection.options());
    },
    async patchSeries(namespace, name, count, lastObserved) {
      try {
        await api.patchNamespacedEvent(
          { namespace, name, body: { series: { count, lastObservedTime: new V1MicroTime(lastObserved.getTime()) } } },
          await connection.mergePatch(),
        );
      } catch (err) {
        throw classifyKubeError(err, 'patch event');
      }
    },
  };
}

export function queuedEventRecorder(sink: EventSink, options: EventRecorderOptions): EventRecorder {
  const windowMs = options.seriesWindowMs ?? 600_000;
  const maxTracked = options.maxTracked ?? 4096;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const maxQueued = Math.max(0, options.maxQueued ?? 1000);
  // Insertion-ordered: the first key is the oldest, evicted when full.
  const recent = new Map<string, Tracked>();
  const queue: (() => Promise<void>)[] = [];
  let running = 0;
  let dropped = 0;
  let seq = 0;

  const track = (key: string, tracked: Tracked): void => {
    recent.delete(key);
    recent.set(key, tracked);
    if (recent.size > maxTracked) {
      const oldest = recent.keys().next();
      if (!oldest.done) recent.delete(oldest.value);
    }
  };

  /** A new Event object, tracked at once so a repeat recorded before it is written joins it. */
  const creation = (
    key: string,
    subject: EventSubject,
    fields: { type: EventType; reason: string; action: string; note: string },
    now: number,
  ): (() => Promise<void>) => {
    const namespace = subject.metadata.namespace ?? 'default';
    const subjectName = subject.metadata.name ?? 'unknown';
    const name = `${subjectName}.${now.toString(16)}${(seq++ % 0x10000).toString(16).padStart(4, '0')}`;
    let settle: (created: boolean) => void = () => undefined;
    const tracked: Tracked = {
      namespace,
      name,
      firstSeen: now,
      count: 1,
      created: new Promise<boolean>((resolve) => (settle = resolve)),
    };
    track(key, tracked);
    const write = async (): Promise<void> => {
      try {
        await sink.create({
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          metadata: { name, namespace },
          eventTime: new V1MicroTime(now),
          reportingController: options.controller,
          reportingInstance: options.instance,
          ...fields,
          regarding: {
            apiVersion: subject.apiVersion,
            kind: subject.kind,
            name: subjectName,
            namespace,
            ...(subject.metadata.uid ? { uid: subject.metadata.uid } : {}),
            ...(subject.metadata.resourceVersion ? { resourceVersion: subject.metadata.resourceVersion } : {}),
          },
        });
        settle(true);
      } catch (err) {
        settle(false);
        throw err;
      }
    };
    return write;
  };

  const pump = (): void => {
    while (running < concurrency && queue.length > 0) {
      const job = queue.shift();
      if (!job) break;
      running++;
      void job().finally(() => {
        running--;
        if (queue.length === 0 && running === 0 && dropped > 0) {
          options.log.warn({ dropped }, 'the Kubernetes event queue was full: events were not recorded');
          dropped = 0;
        }
        pump();
      });
    }
  };

  return {
    record(subject, type, reason, action, rawNote) {
      const note = rawNote.length > NOTE_LIMIT ? `${rawNote.slice(0, NOTE_LIMIT - 3)}...` : rawNote;
      const fields = { type, reason, action, note };
      const now = options.clock.now();
      const identity = subject.metadata.uid ?? `${subject.metadata.namespace ?? ''}/${subject.metadata.name ?? ''}`;
      const key = JSON.stringify([subject.kind, identity, type, reason, action, note]);
      if (queue.length >= maxQueued) {
        dropped++;
        options.onResult?.('dropped');
        return Promise.resolve();
      }
      let write: () => Promise<void>;
      const seen = recent.get(key);
      if (seen && now - seen.firstSeen < windowMs) {
        seen.count++;
        const count = seen.count;
        write = async () => {
          if (await seen.created) {
            try {
              await sink.patchSeries(seen.namespace, seen.name, count, new Date(now));
              return;
            } catch (err) {
              // The Event expired (TTL) or was deleted: start a new one below.
              if (!isNotFound(classifyKubeError(err, 'patch event'))) throw err;
            }
          }
          await creation(key, subject, fields, now)();
        };
      } else {
        write = creation(key, subject, fields, now);
      }
      return new Promise<void>((resolve) => {
        queue.push(async () => {
          try {
            await write();
            options.onResult?.('recorded');
          } catch (err) {
            options.onResult?.('failed');
            options.log.warn(
              { err: classifyKubeError(err, 'record event'), reason, kind: subject.kind, name: subject.metadata.name },
              'recording event failed',
            );
          } finally {
            resolve();
          }
        });
        pump();
      });
    },
  };
}
