// CustomResourceDefinitions built from the schemas. `renderCrdFiles()` is what generate-crds.ts
// writes into crds/ and what the freshness test compares against.
import { stringify } from 'yaml';
import { GROUP, KINDS, PLURALS, VERSION } from './constants.ts';
import type { Kind } from './constants.ts';
import { approvalSchema, notificationSchema, problemEventSchema, projectSchema, remediationSchema } from './schemas.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdSource {
  kind: Kind;
  singular: string;
  shortNames: string[];
  description: string;
  schema: object;
  columns: PrinterColumn[];
  /** Written by the controller through /status (not Approval: a person's answer has no status). */
  status: boolean;
}

const readyColumns: PrinterColumn[] = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 },
];
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const sources: CrdSource[] = [
  {
    kind: KINDS.Project,
    singular: 'project',
    shortNames: ['rbproj'],
    description: "A Git repository in Keptn's layout whose stage branches Rebound remediates.",
    schema: projectSchema,
    status: true,
    columns: [{ name: 'URL', type: 'string', jsonPath: '.spec.git.url' }, ...readyColumns, age],
  },
  {
    kind: KINDS.Remediation,
    singular: 'remediation',
    shortNames: ['rbrem'],
    description: 'The remediation policy for one service in one stage (Keptn remediation.yaml, spec.keptn.sh/0.1.4).',
    schema: remediationSchema,
    status: true,
    columns: [
      { name: 'Project', type: 'string', jsonPath: '.spec.project' },
      { name: 'Stage', type: 'string', jsonPath: '.spec.stage' },
      { name: 'Service', type: 'string', jsonPath: '.spec.service' },
      ...readyColumns,
      age,
    ],
  },
  {
    kind: KINDS.ProblemEvent,
    singular: 'problemevent',
    shortNames: ['pe', 'rbpe'],
    description: 'One problem in a service; Rebound remediates it action by action until its SLOs pass.',
    schema: problemEventSchema,
    status: true,
    columns: [
      { name: 'Project', type: 'string', jsonPath: '.spec.project' },
      { name: 'Stage', type: 'string', jsonPath: '.spec.stage' },
      { name: 'Service', type: 'string', jsonPath: '.spec.service' },
      { name: 'Problem', type: 'string', jsonPath: '.spec.problemTitle' },
      { name: 'State', type: 'string', jsonPath: '.spec.state', priority: 1 },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Attempt', type: 'integer', jsonPath: '.status.currentAttempt' },
      { name: 'Action', type: 'string', jsonPath: '.status.currentAction' },
      { name: 'Result', type: 'string', jsonPath: '.status.lastResult' },
      { name: 'Next-Evaluation', type: 'date', jsonPath: '.status.nextEvaluationTime', priority: 1 },
      {
        name: 'Waiting-For',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Reconciling")].reason',
        priority: 1,
      },
      // The latest attempt's approval request (Pending while people are asked) and how many must say yes.
      { name: 'Approval', type: 'string', jsonPath: '.status.attempts[-1:].approval.state', priority: 1 },
      { name: 'Needed', type: 'integer', jsonPath: '.status.attempts[-1:].approval.minApprovals', priority: 1 },
      // Undo after resolve: when the revert is due (phase Reverting), or how it went.
      { name: 'Revert', type: 'string', jsonPath: '.status.revert.state', priority: 1 },
      { name: 'Revert-At', type: 'date', jsonPath: '.status.revert.dueTime', priority: 1 },
      age,
    ],
  },
  {
    kind: KINDS.Approval,
    singular: 'approval',
    shortNames: ['rbap'],
    description:
      "A person's approval or rejection of one attempt of a ProblemEvent; the API server vouches for spec.user.",
    schema: approvalSchema,
    status: false,
    columns: [
      { name: 'Problem', type: 'string', jsonPath: '.spec.problem' },
      { name: 'Attempt', type: 'integer', jsonPath: '.spec.attempt' },
      { name: 'Decision', type: 'string', jsonPath: '.spec.decision' },
      { name: 'User', type: 'string', jsonPath: '.spec.user' },
      { name: 'Message', type: 'string', jsonPath: '.spec.message', priority: 1 },
      age,
    ],
  },
  {
    kind: KINDS.Notification,
    singular: 'notification',
    shortNames: ['rbnotify'],
    description: 'One sink (Slack, Teams, a webhook, CloudEvents) and which remediation steps go to it.',
    schema: notificationSchema,
    status: true,
    columns: [
      { name: 'Sink', type: 'string', jsonPath: '.spec.sink.type' },
      ...readyColumns,
      { name: 'Last-Delivery', type: 'date', jsonPath: '.status.lastDeliveryTime', priority: 1 },
      age,
    ],
  },
];

function crdFor(source: CrdSource): object {
  const plural = PLURALS[source.kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'rebound', 'app.kubernetes.io/part-of': 'rebound' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: source.kind,
        listKind: `${source.kind}List`,
        plural,
        singular: source.singular,
        shortNames: source.shortNames,
        categories: ['rebound'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(source.status ? { subresources: { status: {} } } : {}),
          additionalPrinterColumns: source.columns,
          schema: { openAPIV3Schema: { description: source.description, ...source.schema } },
        },
      ],
    },
  };
}

export function customResourceDefinitions(): object[] {
  return sources.map(crdFor);
}

const HEADER = '# Generated by `node src/api/generate-crds.ts` from src/api/schemas.ts: do not edit by hand.\n';

/** File name (relative to crds/) → content, one CRD per file. */
export function renderCrdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const source of sources) {
    const text = stringify(crdFor(source), { lineWidth: 0, aliasDuplicateObjects: false });
    files.set(`${GROUP}_${PLURALS[source.kind]}.yaml`, HEADER + text);
  }
  return files;
}
