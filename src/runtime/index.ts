// The controller runtime: nothing here knows about problems, Git or Helm.
export { FakeClock, flushMicrotasks, sleep, systemClock, type CancelTimer, type Clock } from './clock.ts';
export { Backoff, type BackoffOptions } from './backoff.ts';
export {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './rate-limiter.ts';
export {
  LOW_PRIORITY,
  NORMAL_PRIORITY,
  WorkQueue,
  type QueueItem,
  type QueueMetrics,
  type WorkQueueOptions,
} from './workqueue.ts';
export {
  Controller,
  ReconcileOutcome,
  isClassified,
  type CacheSync,
  type ControllerMetrics,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileResult,
  type Reconciler,
} from './controller.ts';
export {
  SupervisedInformer,
  enqueueMapped,
  enqueueOwnKey,
  type EventHandler,
  type InformerMetrics,
  type InformerOptions,
  type MapWatch,
  type ListWatchSource,
  type WatchEnd,
  type WatchEvent,
} from './informer.ts';
export {
  LeaderElector,
  type LeaderCallbacks,
  type LeaderElectionOptions,
  type LeaseRecord,
  type LeaseStore,
} from './leader-election.ts';
export {
  Manager,
  closeOnStop,
  controllerRunnable,
  exitOnCrash,
  informerRunnable,
  shutdownSignal,
  type ManagerExit,
  type ManagerOptions,
  type ReadinessCheck,
  type Runnable,
  type SyncSource,
} from './manager.ts';
export { httpServerRunnable, httpUrl, type HttpRunnableOptions, type HttpServerRunnable } from './http-server.ts';
export { objectKey, refKey, splitKey, type HasMetadata, type ObjectRef } from './keys.ts';
