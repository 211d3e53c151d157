// The openAPIV3Schema of each rebound.dev resource: the single source of truth. crds/*.yaml are
// generated from these objects (src/api/generate-crds.ts) and the TypeScript types in types.ts are
// derived from them at the type level (from-schema.ts), so the API server and the code agree.
import {
  ACTION_APPROVAL,
  APPLY_MODES,
  APPROVAL_DECISIONS,
  APPROVAL_MODES,
  APPROVAL_STATES,
  APPROVAL_TIMEOUT_ACTIONS,
  CLOUDEVENTS_MODES,
  CONDITION_STATUSES,
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_LABEL_PATTERN,
  ACTION_STATES,
  CALLBACK_STATUSES,
  EVALUATION_RESULTS,
  FORGE_KINDS,
  FEATURE_TOGGLE_VALUE_PATTERN,
  GITOPS_ENGINES,
  NOTIFICATION_SEVERITIES,
  NOTIFICATION_STEPS,
  PHASES,
  PROBLEM_STATES,
  PROPOSAL_STATES,
  REVERT_STATES,
  REMEDIATION_MODES,
  SCALE_VALUE_PATTERN,
  SINK_TYPES,
  TASK_NAME_PATTERN,
} from './constants.ts';
import { DURATION_PATTERN } from './duration.ts';

const dnsLabel = {
  type: 'string',
  minLength: 1,
  maxLength: DNS1123_LABEL_MAX_LENGTH,
  pattern: DNS1123_LABEL_PATTERN,
} as const;

const duration = { type: 'string', maxLength: 32, pattern: DURATION_PATTERN } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const gitSha = { type: 'string', maxLength: 64, pattern: '^[0-9a-f]{40}([0-9a-f]{24})?$' } as const;
const gitBranch = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$' } as const;
/** A path inside the repository: relative, no `..` (Go's RE2 has no look-ahead, hence the CEL rule). */
const repoPath = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_./-]*$',
  'x-kubernetes-validations': [{ rule: "!self.contains('..')", message: 'must not contain ..' }],
} as const;
/** A dotted key path into a values file, e.g. `replicaCount` or `carts.featureFlags`. */
const keyPath = {
  type: 'string',
  minLength: 1,
  maxLength: 253,
  pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
} as const;
const generation = { type: 'integer', format: 'int64', minimum: 0 } as const;
const httpUrl = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://[^\\s]+$' } as const;
const secretRef = { type: 'object', required: ['name'], properties: { name: dnsLabel } } as const;
/** An allow-list entry: `host`, `host:port`, `[v6]:port` or `*.domain` (subdomains only). */
const allowedHost = {
  type: 'string',
  minLength: 1,
  maxLength: 261,
  pattern: '^(\\*\\.)?([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$',
} as const;

/** How a webhook action is called; the top-level settings are defaults each endpoint may override. */
const webhookCallSettings = {
  method: { type: 'string', enum: ['POST', 'PUT'] },
  /** A Secret whose keys become credentials: `token` (Bearer), `username`+`password` (Basic), `header.<Name>`. */
  secretRef,
  /** Plain, non-secret headers. */
  headers: { type: 'object', maxProperties: 32, additionalProperties: { type: 'string', maxLength: 1024 } },
  timeout: duration,
  retries: { type: 'integer', format: 'int32', minimum: 0, maximum: 10 },
  /** Success only when the runbook calls back `POST /v1/actions/<id>/finished`. */
  waitForCallback: { type: 'boolean' },
  callbackTimeout: duration,
} as const;

/** Where a featuretoggle is carried out besides values.yaml: `git` (the values file only) or Unleash. */
/** A namespaced object another controller owns (a Flux Kustomization), as `namespace/name`. */
const objectKey = {
  type: 'string',
  minLength: 3,
  maxLength: 317,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
} as const;

/**
 * For `apply: flux`: which engine objects sync the stage (found by branch and path when none are
 * named) and how long the engine may take to report the commit before the problem says so.
 */
export const stageGitOpsSchema = {
  type: 'object',
  properties: {
    /** Flux Kustomizations as `namespace/name`; default: every one whose GitRepository tracks the stage branch and whose path holds the service's file. */
    objects: { type: 'array', maxItems: 16, items: objectKey },
    /** From the reconcile request until the engine must have reported the commit (default 10m). */
    timeout: { ...duration, default: '10m' },
  },
} as const;

/** What the GitOps engine was asked, and what it reported, for one attempt (apply: flux). */
export const syncSchema = {
  type: 'object',
  required: ['engine'],
  properties: {
    engine: { type: 'string', enum: GITOPS_ENGINES },
    /** The engine's objects that sync the attempt's commit, as `namespace/name`. */
    objects: { type: 'array', maxItems: 16, items: objectKey },
    /** When Rebound asked the engine to reconcile (the timeout counts from here). */
    requestedTime: dateTime,
    /** The revision the engine reported as applied: the attempt's commit or a later one that contains it. */
    revision: { type: 'string', maxLength: 320 },
    /** When Rebound saw the engine report it; the evaluation's wait starts here. */
    syncedTime: dateTime,
  },
} as const;

export const ROLLOUT_STATES = ['Progressing', 'Complete', 'Failed', 'TimedOut'] as const;

/**
 * The rollout an attempt's apply started (helm, kubernetes, flux): the loop waits until the service's
 * Deployments and StatefulSets have rolled out (as `kubectl rollout status` decides) before it counts
 * the change as live. Figures are summed over the workloads.
 */
export const rolloutSchema = {
  type: 'object',
  required: ['state'],
  properties: {
    state: { type: 'string', enum: ROLLOUT_STATES },
    /** The workloads waited for, as `Kind/name` in the stage's namespace (found at the first look). */
    workloads: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 320 } },
    /** When the wait started (the attempt was applied); the timeout counts from here. */
    startedTime: dateTime,
    /** The workload's status.observedGeneration (the smallest when there are several). */
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    replicas: { type: 'integer', format: 'int32', minimum: 0 },
    updatedReplicas: { type: 'integer', format: 'int32', minimum: 0 },
    readyReplicas: { type: 'integer', format: 'int32', minimum: 0 },
    availableReplicas: { type: 'integer', format: 'int32', minimum: 0 },
    /** Why it is not complete (the workload's own condition reason, or Rebound's). */
    reason: { type: 'string', maxLength: 128 },
    message: { type: 'string', maxLength: 1024 },
  },
} as const;

export const featureFlagsSchema = {
  type: 'object',
  properties: {
    provider: { type: 'string', enum: ['git', 'unleash'], default: 'git' },
    unleash: {
      type: 'object',
      required: ['url', 'secretRef'],
      properties: {
        /** Unleash's base URL (with or without `/api`). */
        url: httpUrl,
        /** A Secret with key `token`: an Unleash admin API token. */
        secretRef,
        project: { type: 'string', minLength: 1, maxLength: 100, default: 'default' },
        /** Unleash environment; default: the stage's name. */
        environment: { type: 'string', minLength: 1, maxLength: 100 },
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: "!has(self.provider) || self.provider != 'unleash' || has(self.unleash)",
      message: 'provider unleash needs unleash.url and unleash.secretRef',
    },
  ],
} as const;

/** What every resource has besides spec and status (the API server validates metadata itself). */
const resourceEnvelope = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object' },
} as const;

/** metav1.Condition, as Kubernetes API conventions define it. */
export const conditionSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: {
      type: 'string',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    },
    status: { type: 'string', enum: CONDITION_STATUSES },
    reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: dateTime,
    observedGeneration: generation,
  },
} as const;

const conditions = {
  type: 'array',
  maxItems: 16,
  items: conditionSchema,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
} as const;

/** One step of a policy: the same shape as Keptn's `actionsOnOpen[]` (spec.keptn.sh/0.1.4). */
export const remediationActionSchema = {
  type: 'object',
  required: ['name', 'action', 'value'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253 },
    action: { type: 'string', minLength: 1, maxLength: 63 },
    description: { type: 'string', maxLength: 1024 },
    /** Empty for an action that needs none (an executor's `restart`); scale and featuretoggle need one. */
    value: { type: 'string', maxLength: 256, default: '' },
    /** Keptn's map value (`{Flag: "on"}`, an executor's settings), handed to an external executor as it is. */
    valueMap: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    /** `required`: this action waits for a person's Approval, whatever the stage's mode. */
    approval: { type: 'string', enum: ACTION_APPROVAL },
  },
  'x-kubernetes-validations': [
    {
      rule: `!(self.action in ['scale', 'scaling']) || self.value.matches('${SCALE_VALUE_PATTERN}')`,
      message: 'a scale value must be N, +N or -N',
    },
    {
      rule: `self.action != 'featuretoggle' || self.value.matches('${FEATURE_TOGGLE_VALUE_PATTERN}')`,
      message: 'a featuretoggle value must be Flag:on or Flag:off',
    },
    {
      rule: "self.action != 'webhook' || self.value.matches('^(https?://\\\\S+|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$')",
      message: 'a webhook value must be an http(s) URL or the name of an entry in spec.webhook.endpoints',
    },
  ],
} as const;

export const remediationEntrySchema = {
  type: 'object',
  required: ['problemType', 'actionsOnOpen'],
  properties: {
    problemType: { type: 'string', minLength: 1, maxLength: 1024 },
    actionsOnOpen: { type: 'array', minItems: 1, maxItems: 32, items: remediationActionSchema },
    /**
     * This entry's actions run inside the Project's deny windows when the problem's severity (the
     * alert's `severity` label) is listed; an empty list breaks the glass for every severity.
     */
    breakGlass: {
      type: 'object',
      properties: {
        severities: { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 63 } },
      },
    },
    /**
     * Undo after resolve: once the problem has stayed resolved this long, the values this entry's
     * actions changed are set back in a commit of their own, applied and evaluated like an action.
     */
    revertAfter: duration,
  },
} as const;

/** Who must approve an action that waits for a person, and for how long. */
export const approvalSettingsSchema = {
  type: 'object',
  properties: {
    /** Distinct people who must approve (a rejection by any eligible one ends it). */
    minApprovals: { type: 'integer', format: 'int32', minimum: 1, maximum: 10, default: 1 },
    /** An approver must be in one of these groups (as the API server authenticated them); empty: RBAC alone decides. */
    groups: { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 253 } },
    /** Unanswered this long, the approval times out; none: it waits until answered. */
    timeout: duration,
    onTimeout: { type: 'string', enum: APPROVAL_TIMEOUT_ACTIONS, default: 'Unhandled' },
    /**
     * `approvals`: people create Approval objects. `merge`: the change goes to a proposal branch
     * `rebound/<problem>/<attempt>` with a pull request on spec.forge; merging it is the approval,
     * closing it the rejection (docs/approvals.md).
     */
    mode: { type: 'string', enum: APPROVAL_MODES, default: 'approvals' },
  },
} as const;

/** The Git forge the Project's repository lives on: commit statuses and merge-mode pull requests (docs/forges.md). */
export const forgeSchema = {
  type: 'object',
  required: ['type', 'url', 'repository', 'secretRef'],
  properties: {
    type: { type: 'string', enum: FORGE_KINDS },
    /** The forge's web address: `https://gitea.example.com`, `https://github.com`, `https://gitlab.com`. */
    url: httpUrl,
    /** `owner/name` (GitLab: the project's full path, groups included). */
    repository: {
      type: 'string',
      minLength: 3,
      maxLength: 255,
      pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$',
    },
    /** A Secret with a `token` key: a personal or bot access token that may post statuses and open pull requests. */
    secretRef,
    /** Hosts the forge's API may be called on besides spec.git.url's (GitHub's API is api.github.com). */
    allowedHosts: { type: 'array', maxItems: 16, items: allowedHost },
    /** Post a commit status on each remediation commit (pending while evaluating, then the verdict). */
    commitStatuses: { type: 'boolean', default: true },
    /** The status's name on the forge; the stage is appended (`rebound/production`). */
    context: { type: 'string', minLength: 1, maxLength: 100, default: 'rebound' },
    /** The status's link: `{namespace}`, `{name}` and `{attempt}` are replaced (e.g. a dashboard's problem page). */
    link: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://[^\\s]+$' },
  },
} as const;

/** A deny window (as Argo CD's sync windows): from each cron time, for `duration`, no automated action. */
export const windowSchema = {
  type: 'object',
  required: ['name', 'schedule', 'duration'],
  properties: {
    name: dnsLabel,
    /** Five-field cron (minute hour day-of-month month day-of-week), e.g. `0 22 * * 5`. */
    schedule: { type: 'string', minLength: 9, maxLength: 128 },
    duration: duration,
    /** IANA time zone the schedule is read in (default UTC). */
    timeZone: { type: 'string', minLength: 1, maxLength: 64 },
    /** The stages it covers; none: every stage of the Project. */
    stages: { type: 'array', maxItems: 32, items: dnsLabel },
  },
} as const;

export const projectSchema = {
  type: 'object',
  required: ['spec'],
  properties: {
    ...resourceEnvelope,
    spec: {
      type: 'object',
      required: ['git'],
      properties: {
        git: {
          type: 'object',
          required: ['url'],
          properties: {
            url: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://[^\\s]+$' },
            secretRef: {
              type: 'object',
              required: ['name'],
              properties: { name: dnsLabel },
            },
            author: {
              type: 'object',
              properties: {
                name: { type: 'string', minLength: 1, maxLength: 256, default: 'Rebound' },
                email: {
                  type: 'string',
                  minLength: 3,
                  maxLength: 256,
                  pattern: '^[^\\s@<>]+@[^\\s@<>]+$',
                  default: 'rebound@rebound.dev',
                },
              },
            },
            defaultBranch: { ...gitBranch, default: 'main' },
            poll: { ...duration, default: '1m' },
          },
        },
        featureFlags: featureFlagsSchema,
        stages: {
          type: 'array',
          maxItems: 32,
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: dnsLabel,
              branch: gitBranch,
              namespace: dnsLabel,
              remediation: { type: 'string', enum: REMEDIATION_MODES, default: 'automated' },
              apply: { type: 'string', enum: APPLY_MODES, default: 'helm' },
              gitops: stageGitOpsSchema,
            },
          },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
        /** For actions that wait for a person (a `manual` stage, `approval: required`, a shipyard `approval` task). */
        approval: approvalSettingsSchema,
        /** The forge the repository lives on (commit statuses, merge-mode pull requests). */
        forge: forgeSchema,
        /** Deny windows: no automated action starts inside one (docs/resources/project.md). */
        windows: {
          type: 'array',
          maxItems: 32,
          items: windowSchema,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
        /** How much automatic action the whole Project allows at once and per hour. */
        budgets: {
          type: 'object',
          properties: {
            maxInFlight: { type: 'integer', format: 'int32', minimum: 1, maximum: 1000 },
            maxInFlightPerStage: { type: 'integer', format: 'int32', minimum: 1, maximum: 1000 },
            maxActionsPerHour: { type: 'integer', format: 'int32', minimum: 1, maximum: 10000 },
          },
        },
        /** After `maxExhausted` Exhausted problems within `window`, no automatic action until a person resets it. */
        circuitBreaker: {
          type: 'object',
          required: ['maxExhausted', 'window'],
          properties: {
            maxExhausted: { type: 'integer', format: 'int32', minimum: 1, maximum: 1000 },
            window: duration,
          },
        },
      },
    },
    status: {
      type: 'object',
      properties: {
        observedGeneration: generation,
        conditions,
        lastFetchTime: dateTime,
        stages: {
          type: 'array',
          maxItems: 32,
          items: {
            type: 'object',
            required: ['name', 'branch'],
            properties: {
              name: dnsLabel,
              branch: gitBranch,
              commit: gitSha,
              remediation: { type: 'string', enum: REMEDIATION_MODES },
              apply: { type: 'string', enum: APPLY_MODES },
              namespace: dnsLabel,
              /** The tasks of the shipyard's remediation sequence, in order, as the loop follows them. */
              remediationTasks: {
                type: 'array',
                maxItems: 32,
                items: {
                  type: 'object',
                  required: ['name'],
                  properties: {
                    name: { type: 'string', minLength: 1, maxLength: 63, pattern: TASK_NAME_PATTERN },
                    triggeredAfter: duration,
                    properties: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

export const remediationSchema = {
  type: 'object',
  required: ['spec'],
  properties: {
    ...resourceEnvelope,
    spec: {
      type: 'object',
      required: ['project', 'stage', 'service', 'remediations'],
      properties: {
        project: dnsLabel,
        stage: dnsLabel,
        service: dnsLabel,
        remediations: { type: 'array', minItems: 1, maxItems: 64, items: remediationEntrySchema },
        evaluation: {
          type: 'object',
          properties: {
            wait: { ...duration, default: '2m' },
            sloFile: repoPath,
            sliFile: repoPath,
            prometheusURL: { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s]+$' },
          },
        },
        limits: {
          type: 'object',
          properties: {
            minReplicas: { type: 'integer', format: 'int32', minimum: 0, maximum: 10000 },
            maxReplicas: { type: 'integer', format: 'int32', minimum: 1, maximum: 10000 },
            cooldown: duration,
            maxActionsPerHour: { type: 'integer', format: 'int32', minimum: 1, maximum: 1000 },
          },
          'x-kubernetes-validations': [
            {
              rule: '!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas',
              message: 'minReplicas must not be greater than maxReplicas',
            },
          ],
        },
        /**
         * Holds: while a problem is open, a push that sets a value Rebound wrote back (the next deploy
         * resets `replicaCount: 1`) is reported (`warn`), or the value is committed again (`reassert`),
         * at most `maxReasserts` times per problem so that Rebound never fights a person forever.
         */
        hold: {
          type: 'object',
          properties: {
            mode: { type: 'string', enum: ['warn', 'reassert'], default: 'warn' },
            maxReasserts: { type: 'integer', format: 'int32', minimum: 0, maximum: 10, default: 3 },
          },
        },
        values: {
          type: 'object',
          properties: {
            file: repoPath,
            replicaCountKey: keyPath,
            /**
             * The HorizontalPodAutoscaler's minimum in the values file (default `autoscaling.minReplicas`, Helm's
             * chart scaffold). When the key is there and its sibling `enabled` is not false, an HPA owns the
             * replica count: `scale` raises this minimum instead, clamped to the sibling `maxReplicas`.
             */
            minReplicasKey: keyPath,
            featureFlagsKey: keyPath,
          },
        },
        /** Webhook actions: the hosts they may call (nothing else is ever called), defaults and named endpoints. */
        webhook: {
          type: 'object',
          properties: {
            allowedHosts: { type: 'array', maxItems: 32, items: allowedHost },
            ...webhookCallSettings,
            endpoints: {
              type: 'array',
              maxItems: 32,
              items: {
                type: 'object',
                required: ['name', 'url'],
                properties: { name: dnsLabel, url: httpUrl, ...webhookCallSettings },
              },
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
            },
          },
        },
        /** Overrides the Project's feature-flag provider for this service. */
        featureFlags: featureFlagsSchema,
      },
    },
    status: {
      type: 'object',
      properties: {
        observedGeneration: generation,
        conditions,
      },
    },
  },
} as const;

/** One criterion of an SLO objective: `<=600`, `<=+10%`, and the number it came to. */
export const sliTargetSchema = {
  type: 'object',
  required: ['criteria'],
  properties: {
    criteria: { type: 'string', maxLength: 64 },
    targetValue: { type: 'number' },
    violated: { type: 'boolean' },
  },
} as const;

export const indicatorResultSchema = {
  type: 'object',
  required: ['metric'],
  properties: {
    metric: { type: 'string', minLength: 1, maxLength: 253 },
    value: { type: 'number' },
    status: { type: 'string', enum: ['pass', 'warning', 'fail', 'info'] },
    score: { type: 'number' },
    message: { type: 'string', maxLength: 1024 },
    /**
     * The provider's query with every placeholder resolved for the window. Longer ones are cut to
     * fit (queryTruncated), so a status with many SLIs stays small.
     */
    query: { type: 'string', maxLength: 1024 },
    queryTruncated: { type: 'boolean' },
    /** The pass criteria as written, each with the number the value was compared with. */
    passTargets: { type: 'array', maxItems: 8, items: sliTargetSchema },
    warningTargets: { type: 'array', maxItems: 8, items: sliTargetSchema },
  },
} as const;

/**
 * How an action that runs outside Git went: a webhook call, an external executor. `id` is what the
 * runbook calls back with (`POST /v1/actions/<id>/finished`) and a Keptn executor's `triggeredid`.
 */
export const executionSchema = {
  type: 'object',
  required: ['id', 'state'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 320 },
    /** Which implementation ran it: `webhook`, `keptn` (an external executor). */
    executor: { type: 'string', maxLength: 63 },
    state: { type: 'string', enum: ACTION_STATES },
    /** The endpoint called (without credentials). */
    target: { type: 'string', maxLength: 2048 },
    startedTime: dateTime,
    /** A callback must arrive before this, or the attempt fails. */
    deadline: dateTime,
    finishedTime: dateTime,
    responseCode: { type: 'integer', format: 'int32', minimum: 0, maximum: 999 },
    tries: { type: 'integer', format: 'int32', minimum: 0 },
    message: { type: 'string', maxLength: 4096 },
    /** Written by the callback route; the loop turns it into the attempt's outcome. */
    callbackStatus: { type: 'string', enum: CALLBACK_STATUSES },
    callbackMessage: { type: 'string', maxLength: 4096 },
    callbackTime: dateTime,
  },
} as const;

/** One person's answer, as the controller counted it. */
export const approverSchema = {
  type: 'object',
  required: ['user', 'decision'],
  properties: {
    /** The Approval object's name. */
    name: { type: 'string', maxLength: 253 },
    user: { type: 'string', minLength: 1, maxLength: 512 },
    decision: { type: 'string', enum: APPROVAL_DECISIONS },
    time: dateTime,
    message: { type: 'string', maxLength: 1024 },
  },
} as const;

/** An attempt that waits for people: what they are asked to approve, who may, and what they said. */
export const attemptApprovalSchema = {
  type: 'object',
  required: ['state', 'requestedTime'],
  properties: {
    state: { type: 'string', enum: APPROVAL_STATES },
    /** Why it waits: `stage production is manual`, `action 1 of the policy requires approval`, a shipyard approval task. */
    why: { type: 'string', maxLength: 1024 },
    requestedTime: dateTime,
    deadline: dateTime,
    minApprovals: { type: 'integer', format: 'int32', minimum: 1 },
    groups: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 253 } },
    onTimeout: { type: 'string', enum: APPROVAL_TIMEOUT_ACTIONS },
    /** The values file and the exact diff that will be committed (empty for actions outside Git). */
    file: repoPath,
    baseCommit: gitSha,
    diff: { type: 'string', maxLength: 16384 },
    approvers: { type: 'array', maxItems: 32, items: approverSchema },
    /** Answers that do not count (made before this request, or by someone outside the groups), and why. */
    notCounted: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        required: ['name', 'user', 'why'],
        properties: {
          name: { type: 'string', maxLength: 253 },
          user: { type: 'string', maxLength: 512 },
          why: { type: 'string', maxLength: 1024 },
        },
      },
    },
    decidedTime: dateTime,
    message: { type: 'string', maxLength: 4096 },
    /** Merge mode: the proposal branch, its commit and its pull request. */
    proposal: {
      type: 'object',
      required: ['branch'],
      properties: {
        branch: gitBranch,
        commit: gitSha,
        number: { type: 'integer', format: 'int64', minimum: 1 },
        url: { type: 'string', maxLength: 2048 },
        state: { type: 'string', enum: PROPOSAL_STATES },
        /** The commit the merge made on the stage branch. */
        mergeCommit: gitSha,
      },
    },
  },
} as const;

/**
 * One task of the shipyard's remediation sequence between the action and the evaluation (a load test,
 * say), run for this attempt: Rebound sent `sh.keptn.event.<name>.triggered` with `id` as its event id,
 * and the executor's `.finished` (with `triggeredid` = `id`) decides it. Same fields as an execution.
 */
export const sequenceTaskSchema = {
  type: 'object',
  required: ['name', 'id', 'state'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 63, pattern: TASK_NAME_PATTERN },
    ...executionSchema.properties,
  },
} as const;

/** One key a values edit set: `from` absent when the edit added the key. Scalars as YAML shows them. */
export const valueEditSchema = {
  type: 'object',
  required: ['key', 'to'],
  properties: {
    /** The key path in the values file (`replicaCount`, `featureFlags.EnablePromotion`). */
    key: { type: 'string', minLength: 1, maxLength: 512 },
    from: { type: 'string', maxLength: 64 },
    to: { type: 'string', maxLength: 64 },
  },
} as const;

export const attemptSchema = {
  type: 'object',
  required: ['index', 'action', 'value'],
  properties: {
    /** Counts from 1. */
    index: { type: 'integer', format: 'int32', minimum: 1 },
    name: { type: 'string', maxLength: 253 },
    action: { type: 'string', minLength: 1, maxLength: 63 },
    value: { type: 'string', maxLength: 256 },
    /** The policy's map value, as the external executor receives it (`value` then holds its JSON). */
    valueMap: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    /** The policy's description of the action (an external executor receives it). */
    description: { type: 'string', maxLength: 1024 },
    branch: gitBranch,
    commit: gitSha,
    path: repoPath,
    committedTime: dateTime,
    appliedTime: dateTime,
    /** When the change was live: the rollout the apply started had finished. The evaluation counts from here. */
    liveTime: dateTime,
    rollout: rolloutSchema,
    helmRevision: { type: 'integer', format: 'int32', minimum: 1 },
    /** The start of the window the evaluation read (its end is evaluationTime). */
    evaluationStart: dateTime,
    evaluationTime: dateTime,
    result: { type: 'string', enum: EVALUATION_RESULTS },
    score: { type: 'number' },
    indicatorResults: { type: 'array', maxItems: 64, items: indicatorResultSchema },
    message: { type: 'string', maxLength: 4096 },
    execution: executionSchema,
    sync: syncSchema,
    approval: attemptApprovalSchema,
    /** The deny window this attempt ran inside, and the policy entry that let it (break-glass). */
    breakGlass: { type: 'string', maxLength: 1024 },
    /** The sequence's tasks after the action, in order, as far as they have run. */
    tasks: { type: 'array', maxItems: 16, items: sequenceTaskSchema },
    /** The keys a values edit changed, with what they held before: what a revert sets back. */
    edits: { type: 'array', maxItems: 32, items: valueEditSchema },
  },
} as const;

/** A key the revert left alone because someone changed it after Rebound wrote it. */
export const revertConflictSchema = {
  type: 'object',
  required: ['key'],
  properties: {
    key: { type: 'string', maxLength: 512 },
    /** The value Rebound wrote, and the value the file holds now (absent when the key is gone). */
    wrote: { type: 'string', maxLength: 64 },
    found: { type: 'string', maxLength: 64 },
    /** The newest commit that changed the key, and its author, when the history says. */
    commit: gitSha,
    author: { type: 'string', maxLength: 512 },
  },
} as const;

/**
 * The undo of the problem's changes after it resolved (the policy entry's `revertAfter`): one commit
 * with a `Rebound-Reverts` trailer per commit it reverts, applied and evaluated like an action.
 */
export const revertSchema = {
  type: 'object',
  required: ['state'],
  properties: {
    state: { type: 'string', enum: REVERT_STATES },
    /** The policy's revertAfter, and when it passes (counted from the resolution). */
    after: duration,
    resolvedTime: dateTime,
    dueTime: dateTime,
    /** The Rebound-Attempt number of the revert commit (after the last attempt); a restore uses the next. */
    step: { type: 'integer', format: 'int32', minimum: 1 },
    /** The attempts' commits it reverts. */
    reverts: { type: 'array', maxItems: 64, items: gitSha },
    branch: gitBranch,
    path: repoPath,
    commit: gitSha,
    committedTime: dateTime,
    /**
     * For a stage synced by a GitOps engine (apply: flux, argocd): the sync asked for, as an attempt's.
     * The revert is applied once the engine reports its commit.
     */
    sync: syncSchema,
    appliedTime: dateTime,
    /** The revert's rollout, as an attempt's: applied is not live. Its evaluation counts from `liveTime`. */
    rollout: rolloutSchema,
    liveTime: dateTime,
    evaluationTime: dateTime,
    result: { type: 'string', enum: EVALUATION_RESULTS },
    score: { type: 'number' },
    /** The keys the revert set back, as `key from → to` lines' data. */
    edits: { type: 'array', maxItems: 32, items: valueEditSchema },
    /** Keys left alone: a person (or a pipeline) changed them since Rebound wrote them. */
    conflicts: { type: 'array', maxItems: 32, items: revertConflictSchema },
    /** The commit that restored the remediated values after the revert failed its evaluation. */
    restoreCommit: gitSha,
    finishedTime: dateTime,
    message: { type: 'string', maxLength: 4096 },
  },
} as const;

/** Holds: what the branch watch saw of pushes that set a value Rebound wrote back, while the problem was open. */
export const holdStatusSchema = {
  type: 'object',
  properties: {
    /** The stage branch's head last looked at: a new one is looked at once. */
    checkedCommit: gitSha,
    /** Rebound's commits that put a value back (policy `hold.mode: reassert`), bounded by `maxReasserts`. */
    reasserts: { type: 'integer', format: 'int32', minimum: 0 },
    /** The last push that set a value back. */
    brokenBy: {
      type: 'object',
      required: ['commit', 'author'],
      properties: {
        commit: gitSha,
        /** `Name <email>` as the commit records it. */
        author: { type: 'string', maxLength: 512 },
        /** When the branch watch saw it. */
        time: dateTime,
        /** `key: wanted → found` for each value set back, in the values file. */
        keys: { type: 'array', maxItems: 16, items: { type: 'string', maxLength: 512 } },
        path: repoPath,
        /** Rebound's commit that put the values back, when it did. */
        reassertCommit: gitSha,
      },
    },
  },
} as const;

export const policySourceSchema = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['Remediation', 'Git'] },
    /** The Remediation resource's name (kind Remediation). */
    name: { type: 'string', maxLength: 253 },
    /** Branch, commit and path of remediation.yaml (kind Git). */
    branch: gitBranch,
    commit: gitSha,
    path: repoPath,
    /** The entry that matched, and how (exact rootCause, exact problemTitle, default, or legacy prefix). */
    problemType: { type: 'string', maxLength: 1024 },
    match: { type: 'string', enum: ['rootCause', 'problemTitle', 'default', 'prefix'] },
  },
} as const;

export const problemEventSchema = {
  type: 'object',
  required: ['spec'],
  properties: {
    ...resourceEnvelope,
    spec: {
      type: 'object',
      required: ['project', 'stage', 'service', 'problemTitle', 'state'],
      properties: {
        project: dnsLabel,
        stage: dnsLabel,
        service: dnsLabel,
        problemTitle: { type: 'string', minLength: 1, maxLength: 1024 },
        rootCause: { type: 'string', maxLength: 1024 },
        state: { type: 'string', enum: PROBLEM_STATES, default: 'OPEN' },
        problemID: { type: 'string', maxLength: 256 },
        source: { type: 'string', maxLength: 256 },
        impactedEntity: { type: 'string', maxLength: 1024 },
        details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
      'x-kubernetes-validations': [
        {
          rule: 'self.project == oldSelf.project && self.stage == oldSelf.stage && self.service == oldSelf.service',
          message: 'project, stage and service are immutable',
        },
      ],
    },
    status: {
      type: 'object',
      properties: {
        observedGeneration: generation,
        phase: { type: 'string', enum: PHASES },
        /** The attempt in progress or last made (counts from 1); mirrors attempts[-1] for printing. */
        currentAttempt: { type: 'integer', format: 'int32', minimum: 0 },
        /** `action value` of the current attempt, e.g. `scale +1`. */
        currentAction: { type: 'string', maxLength: 320 },
        lastResult: { type: 'string', enum: EVALUATION_RESULTS },
        nextEvaluationTime: dateTime,
        startTime: dateTime,
        completionTime: dateTime,
        policySource: policySourceSchema,
        attempts: { type: 'array', maxItems: 64, items: attemptSchema },
        hold: holdStatusSchema,
        /** Undo after resolve (`revertAfter`): phase Reverting while it waits and runs. */
        revert: revertSchema,
        conditions,
      },
    },
  },
} as const;

/**
 * A person's answer to an attempt that waits for approval. The API server records who created it:
 * `spec.user` and `spec.groups` must be the creator's own (the ValidatingAdmissionPolicy in
 * manifests/approval-identity.yaml refuses anything else), and RBAC on `approvals` decides who may.
 */
export const approvalSchema = {
  type: 'object',
  required: ['spec'],
  properties: {
    ...resourceEnvelope,
    spec: {
      type: 'object',
      required: ['problem', 'attempt', 'decision', 'user'],
      properties: {
        /** The ProblemEvent's name, in the Approval's namespace. */
        problem: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
        attempt: { type: 'integer', format: 'int32', minimum: 1 },
        decision: { type: 'string', enum: APPROVAL_DECISIONS },
        message: { type: 'string', maxLength: 1024 },
        /** The creator's user name, checked against the request by admission. */
        user: { type: 'string', minLength: 1, maxLength: 512 },
        /** Groups of the creator (a subset of the request's), checked by admission. */
        groups: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 253 } },
      },
      'x-kubernetes-validations': [
        { rule: 'self == oldSelf', message: 'an Approval cannot be changed: create a new one' },
      ],
    },
  },
} as const;

/**
 * One sink and what goes to it (docs/notifications.md): which problems (projects, stages, services),
 * which steps, from which severity up. Credentials come from `spec.sink.secretRef`; the sink's host
 * must be on the controller's --notification-allowed-hosts.
 */
export const notificationSchema = {
  type: 'object',
  required: ['spec'],
  properties: {
    ...resourceEnvelope,
    spec: {
      type: 'object',
      required: ['sink'],
      properties: {
        sink: {
          type: 'object',
          required: ['type'],
          properties: {
            type: { type: 'string', enum: SINK_TYPES },
            /**
             * Where to deliver. slack: the Web API's base (default https://slack.com/api); teams, webhook,
             * cloudevents: the endpoint. A Secret key `url` takes its place (a Teams Workflows URL carries
             * its signature in the query).
             */
            url: httpUrl,
            /** slack: the channel id (C0123...) the threads are started in. */
            channel: { type: 'string', minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9#_-]+$' },
            /**
             * slack: `token` (a bot token, chat:write). webhook: `secret` (HMAC-SHA256 key), `token`
             * (Bearer). cloudevents: `token` (Bearer). teams, webhook, cloudevents: `url`.
             */
            secretRef,
            /** cloudevents: HTTP binding (default binary). */
            mode: { type: 'string', enum: CLOUDEVENTS_MODES },
            /** Per request (default 10s). */
            timeout: duration,
            /** Shown as the problem's link in messages and CDEvents (the dashboard, say); `{name}`, `{namespace}` are filled in. */
            linkTemplate: { type: 'string', maxLength: 1024, pattern: '^https?://[^\\s]+$' },
          },
          'x-kubernetes-validations': [
            { rule: "self.type != 'slack' || has(self.channel)", message: 'a slack sink needs a channel' },
            {
              rule: "self.type == 'slack' || has(self.url) || has(self.secretRef)",
              message: 'a url, or a secretRef whose Secret holds one, is needed',
            },
            { rule: "self.type == 'cloudevents' || !has(self.mode)", message: 'mode is for cloudevents sinks' },
          ],
        },
        /** Which problems: an empty or absent list matches all. */
        projects: { type: 'array', maxItems: 64, items: dnsLabel },
        stages: { type: 'array', maxItems: 64, items: dnsLabel },
        services: { type: 'array', maxItems: 64, items: dnsLabel },
        /** Which steps (default: all). */
        steps: { type: 'array', maxItems: 16, items: { type: 'string', enum: NOTIFICATION_STEPS } },
        /** Steps below this severity are not sent (default info: everything). */
        minSeverity: { type: 'string', enum: NOTIFICATION_SEVERITIES },
        /** Nothing is sent while true; the steps that happened meanwhile are sent once it is false again. */
        suspend: { type: 'boolean' },
      },
    },
    status: {
      type: 'object',
      properties: {
        observedGeneration: generation,
        /**
         * How far each problem's story has been delivered, so a restart sends nothing twice (at least
         * once: a crash between a delivery and this write repeats that one step, same idempotency key).
         */
        deliveries: {
          type: 'array',
          maxItems: 1024,
          items: {
            type: 'object',
            required: ['problem', 'uid', 'delivered'],
            properties: {
              problem: { type: 'string', maxLength: 253 },
              uid: { type: 'string', maxLength: 64 },
              /** How many of the problem's steps (in order) the sink has accepted. */
              delivered: { type: 'integer', format: 'int32', minimum: 0 },
              /** slack: `<channel>/<ts>` of the thread's first message. */
              thread: { type: 'string', maxLength: 128 },
            },
          },
        },
        /** Problems created before this time with no entry in `deliveries` are not sent (their entries aged out). */
        horizon: dateTime,
        /** The last failure, without credentials. */
        lastError: { type: 'string', maxLength: 1024 },
        lastDeliveryTime: dateTime,
        conditions,
      },
    },
  },
} as const;
