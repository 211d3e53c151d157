import { describe, expect, it } from 'vitest';
import { ReboundError } from '../errors.ts';
import { detectPayloadKind, InvalidPayloadError, mapProblemDocument } from './payloads.ts';
import type { MappedProblem } from './payloads.ts';

// The seed tutorial's remediation_trigger.json (shared/seeds/001), verbatim.
const seedRemediationTrigger = {
  type: 'sh.keptn.event.production.remediation.triggered',
  specversion: '1.0',
  source: 'https://github.com/keptn/keptn/fake-problem',
  contenttype: 'application/json',
  data: {
    project: 'fulltour',
    stage: 'production',
    service: 'helloservice',
    problem: { problemTitle: 'http_response_time_seconds_main_page_sum' },
  },
};

// What Keptn's prometheus-service sent (keptn-semantics §4.2): capitalised v0.1 problem keys.
const prometheusServiceEvent = {
  specversion: '1.0',
  id: '6a1c3f0e-2d4b-4c7e-9a31-0f3a2d1b9c11',
  source: 'prometheus',
  type: 'sh.keptn.event.production.remediation.triggered',
  shkeptncontext: '0d3c8c46-1b4e-5c8f-9a8b-1f8c2e3d4a5b',
  datacontenttype: 'application/json',
  data: {
    project: 'sockshop',
    stage: 'production',
    service: 'carts',
    labels: { 'Problem URL': 'http://prometheus:9090/graph?g0.expr=response_time_p90' },
    problem: {
      State: 'OPEN',
      ProblemID: '',
      ProblemTitle: 'response_time_p90',
      ProblemDetails: { problemDetails: 'Pod name carts-primary-5d9f' },
      ProblemURL: 'http://prometheus:9090/graph?g0.expr=response_time_p90',
      ImpactedEntity: 'carts-primary',
      labels: { deployment: 'primary' },
    },
    deployment: { deploymentNames: ['primary'] },
  },
};

// Dynatrace's problem notification as the seed tutorial (shared/seeds/000) configures it, placeholders
// filled the way Dynatrace fills them, wrapped in the Keptn CloudEvent the tutorial uses.
const dynatraceWrapped = {
  specversion: '0.2',
  type: 'sh.keptn.events.problem',
  shkeptncontext: '-3723526834569612447_1604481480000',
  source: 'dynatrace',
  id: '-3723526834569612447_1604481480000',
  time: '',
  contenttype: 'application/json',
  data: {
    State: 'OPEN',
    ProblemID: '672',
    PID: '-3723526834569612447_1604481480000V2',
    ProblemTitle: 'Response time degradation',
    ProblemDetails: { id: '-3723526834569612447_1604481480000V2', status: 'OPEN', severityLevel: 'PERFORMANCE' },
    ImpactedEntities: [{ type: 'SERVICE', name: 'ItemsController', entity: 'SERVICE-B6E5D8F9A1C2D3E4' }],
    ImpactedEntity: 'Response time degradation on Web request service ItemsController',
    Tags: 'keptn_deployment:primary, keptn_project:sockshop, keptn_service:carts, keptn_stage:production',
  },
};

// Dynatrace's default custom payload sent straight to /v1/dynatrace (the dynatrace-service shape).
const dynatraceBare = {
  State: 'RESOLVED',
  ProblemID: '672',
  PID: '-3723526834569612447_1604481480000V2',
  ProblemTitle: 'Response time degradation',
  ImpactedEntity: 'Response time degradation on Web request service ItemsController',
  ProblemURL: 'https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=-3723526834569612447_1604481480000V2',
  ProblemDetails: { id: '-3723526834569612447_1604481480000V2' },
  Tags: '[Kubernetes]app:carts, keptn_project:sockshop, keptn_stage:production, keptn_service:carts',
};

// An Alertmanager v4 webhook group with two alerts (one firing, one resolved), as Alertmanager sends it.
const alertmanagerGroup = {
  receiver: 'rebound',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: {
        alertname: 'response_time_p90',
        project: 'sockshop',
        stage: 'production',
        service: 'carts',
        severity: 'webhook',
        pod_name: 'carts-primary',
      },
      annotations: { summary: 'response_time_p90', descriptions: 'Pod name carts-primary' },
      startsAt: '2026-11-22T04:10:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=x',
      fingerprint: 'c4b3f2a1d0e9f8a7',
    },
    {
      status: 'resolved',
      labels: {
        alertname: 'error_rate',
        keptn_project: 'sockshop',
        keptn_stage: 'production',
        keptn_service: 'orders',
      },
      annotations: { problemTitle: 'Failure rate increase', rootCause: 'NotImplementedFunction' },
      startsAt: '2026-11-22T03:50:00.000Z',
      endsAt: '2026-11-22T04:12:00.000Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=y',
      fingerprint: '0a1b2c3d4e5f6a7b',
    },
  ],
  groupLabels: { alertname: 'response_time_p90' },
  commonLabels: { project: 'sockshop' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  version: '4',
  groupKey: '{}:{alertname="response_time_p90"}',
  truncatedAlerts: 0,
};

const manifest = {
  apiVersion: 'rebound.dev/v1alpha1',
  kind: 'ProblemEvent',
  metadata: { name: 'carts-response-time' },
  spec: { project: 'sockshop', stage: 'production', service: 'carts', problemTitle: 'response_time_p90' },
};

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('mapProblemDocument: realistic payloads', () => {
  const cases: {
    name: string;
    payload: unknown;
    kind: string;
    expected: Partial<MappedProblem['spec']>[];
    namePrefix: string;
  }[] = [
    {
      name: 'seed remediation_trigger.json',
      payload: seedRemediationTrigger,
      kind: 'cloudevent',
      namePrefix: 'ce-helloservice-',
      expected: [
        {
          project: 'fulltour',
          stage: 'production',
          service: 'helloservice',
          problemTitle: 'http_response_time_seconds_main_page_sum',
          state: 'OPEN',
          source: 'cloudevent',
        },
      ],
    },
    {
      name: 'prometheus-service event with capitalised keys',
      payload: prometheusServiceEvent,
      kind: 'cloudevent',
      namePrefix: 'ce-carts-',
      expected: [
        {
          project: 'sockshop',
          stage: 'production',
          service: 'carts',
          problemTitle: 'response_time_p90',
          state: 'OPEN',
          impactedEntity: 'carts-primary',
          problemID: '0d3c8c46-1b4e-5c8f-9a8b-1f8c2e3d4a5b',
        },
      ],
    },
    {
      name: 'Dynatrace notification wrapped as sh.keptn.events.problem',
      payload: dynatraceWrapped,
      kind: 'cloudevent',
      namePrefix: 'ce-carts-',
      expected: [
        {
          project: 'sockshop',
          stage: 'production',
          service: 'carts',
          problemTitle: 'Response time degradation',
          state: 'OPEN',
          problemID: '672',
        },
      ],
    },
    {
      name: 'bare Dynatrace notification, resolved, tags with a context prefix',
      payload: dynatraceBare,
      kind: 'dynatrace',
      namePrefix: 'dt-carts-',
      expected: [
        {
          project: 'sockshop',
          stage: 'production',
          service: 'carts',
          problemTitle: 'Response time degradation',
          state: 'RESOLVED',
          source: 'dynatrace',
        },
      ],
    },
    {
      // dynatrace-service's "any type of detected problem" payload: routed by its Keptn* fields.
      name: 'Dynatrace notification routed with KeptnProject, KeptnStage and KeptnService',
      payload: {
        specversion: '1.0',
        shkeptncontext: '-3723526834569612447_1604481480000V2',
        type: 'sh.keptn.events.problem',
        source: 'dynatrace',
        id: '-3723526834569612447_1604481480000V2',
        contenttype: 'application/json',
        data: {
          ...dynatraceBare,
          State: 'OPEN',
          Tags: 'host:infra-7',
          KeptnProject: 'demo-remediation',
          KeptnService: 'allproblems',
          KeptnStage: 'production',
        },
      },
      kind: 'cloudevent',
      namePrefix: 'ce-allproblems-',
      expected: [
        {
          project: 'demo-remediation',
          stage: 'production',
          service: 'allproblems',
          problemTitle: 'Response time degradation',
          state: 'OPEN',
          source: 'cloudevent',
        },
      ],
    },
    {
      name: 'Keptn* fields win over the keptn_* tags; a plain project field wins over both',
      payload: { ...dynatraceBare, KeptnService: 'allproblems', KeptnStage: 'staging', stage: 'production' },
      kind: 'dynatrace',
      namePrefix: 'dt-allproblems-',
      expected: [{ project: 'sockshop', stage: 'production', service: 'allproblems', state: 'RESOLVED' }],
    },
    {
      name: 'Alertmanager group: every alert, each with its own state',
      payload: alertmanagerGroup,
      kind: 'alertmanager',
      namePrefix: 'am-',
      expected: [
        {
          project: 'sockshop',
          stage: 'production',
          service: 'carts',
          problemTitle: 'response_time_p90',
          state: 'OPEN',
          problemID: 'c4b3f2a1d0e9f8a7',
          impactedEntity: 'carts-primary',
        },
        {
          project: 'sockshop',
          stage: 'production',
          service: 'orders',
          problemTitle: 'Failure rate increase',
          rootCause: 'NotImplementedFunction',
          state: 'RESOLVED',
          problemID: '0a1b2c3d4e5f6a7b',
        },
      ],
    },
    {
      name: 'ProblemEvent manifest keeps its name',
      payload: manifest,
      kind: 'manifest',
      namePrefix: 'carts-response-time',
      expected: [
        {
          project: 'sockshop',
          stage: 'production',
          service: 'carts',
          problemTitle: 'response_time_p90',
          state: 'OPEN',
        },
      ],
    },
  ];

  it.each(cases)('$name', ({ payload, kind, expected, namePrefix }) => {
    expect(detectPayloadKind(payload)).toBe(kind);
    const problems = mapProblemDocument(payload);
    expect(problems).toHaveLength(expected.length);
    problems.forEach((p, i) => {
      expect(p.spec).toMatchObject(expected[i] ?? {});
      expect(p.name).toMatch(DNS1123);
      expect(p.name.length).toBeLessThanOrEqual(63);
    });
    expect(problems[0]?.name.startsWith(namePrefix)).toBe(true);
  });

  it('unwraps a CloudEvent whose data was serialised as a JSON string', () => {
    const doubled = { ...seedRemediationTrigger, data: JSON.stringify(seedRemediationTrigger.data) };
    expect(mapProblemDocument(doubled)).toEqual(mapProblemDocument(seedRemediationTrigger));
  });

  it('keeps Alertmanager details (summary, description, startsAt) for people', () => {
    const [first] = mapProblemDocument(alertmanagerGroup);
    expect(first?.spec.details).toMatchObject({
      summary: 'response_time_p90',
      description: 'Pod name carts-primary',
      startsAt: '2026-11-22T04:10:00.000Z',
      fingerprint: 'c4b3f2a1d0e9f8a7',
    });
  });

  it('keeps the labels and the deployment SLI queries read as $LABEL.<name> and $DEPLOYMENT', () => {
    const [alert] = mapProblemDocument(alertmanagerGroup);
    expect(alert?.spec.details?.['labels']).toEqual(alertmanagerGroup.alerts[0]?.labels);
    const [event] = mapProblemDocument(prometheusServiceEvent);
    expect(event?.spec.details).toMatchObject({
      labels: { 'Problem URL': 'http://prometheus:9090/graph?g0.expr=response_time_p90', deployment: 'primary' },
      deployment: 'primary',
    });
    const [seed] = mapProblemDocument(seedRemediationTrigger);
    expect(seed?.spec.details?.['deployment']).toBeUndefined();
  });

  it('keeps the Dynatrace PID, URL, tags and impacted entities in details', () => {
    const [problem] = mapProblemDocument(dynatraceBare);
    expect(problem?.spec.problemID).toBe('672');
    expect(problem?.spec.details).toMatchObject({ pid: dynatraceBare.PID, problemURL: dynatraceBare.ProblemURL });
    expect(String(problem?.spec.details?.['tags'])).toContain('keptn_service:carts');
  });
});

describe('deterministic names', () => {
  const firing = (overrides: Record<string, unknown> = {}): unknown => ({
    version: '4',
    status: 'firing',
    alerts: [{ ...alertmanagerGroup.alerts[0], ...overrides }],
  });

  it('maps a repeated firing alert to the same name', () => {
    expect(mapProblemDocument(firing())[0]?.name).toBe(mapProblemDocument(firing())[0]?.name);
  });

  it('maps the resolved notification of an alert to the name of its firing notification', () => {
    const resolved = mapProblemDocument(firing({ status: 'resolved', endsAt: '2026-11-22T04:30:00Z' }))[0];
    expect(resolved?.spec.state).toBe('RESOLVED');
    expect(resolved?.name).toBe(mapProblemDocument(firing())[0]?.name);
  });

  it('gives a new firing of the same alert (new startsAt) a new name', () => {
    const later = mapProblemDocument(firing({ startsAt: '2026-11-22T06:00:00Z' }))[0];
    expect(later?.name).not.toBe(mapProblemDocument(firing())[0]?.name);
  });

  it('gives different fingerprints different names', () => {
    expect(mapProblemDocument(firing({ fingerprint: 'ffff' }))[0]?.name).not.toBe(
      mapProblemDocument(firing())[0]?.name,
    );
  });

  it('keeps names within 63 characters for very long service names', () => {
    const long = 'a'.repeat(63);
    const [problem] = mapProblemDocument(
      firing({ labels: { alertname: 'x', project: 'p', stage: 's', service: long } }),
    );
    expect(problem?.name.length).toBeLessThanOrEqual(63);
    expect(problem?.name).toMatch(DNS1123);
  });

  it('maps Dynatrace OPEN and RESOLVED of one PID to one name', () => {
    const open = mapProblemDocument({ ...dynatraceBare, State: 'OPEN' })[0];
    const resolved = mapProblemDocument(dynatraceBare)[0];
    expect(open?.name).toBe(resolved?.name);
    expect([open?.spec.state, resolved?.spec.state]).toEqual(['OPEN', 'RESOLVED']);
  });

  it('maps a CloudEvent without any id by its content, so re-sending the file is one problem', () => {
    expect(mapProblemDocument(seedRemediationTrigger)[0]?.name).toBe(
      mapProblemDocument(structuredClone(seedRemediationTrigger))[0]?.name,
    );
  });

  it('derives a stable name for a manifest without metadata.name', () => {
    const unnamed = { ...manifest, metadata: {} };
    const a = mapProblemDocument(unnamed)[0]?.name;
    expect(a).toMatch(/^pe-carts-[0-9a-f]{12}$/);
    expect(mapProblemDocument(structuredClone(unnamed))[0]?.name).toBe(a);
  });
});

describe('mapping options', () => {
  it('reads project, stage and service from configured label names', () => {
    const payload = {
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighLatency', team_project: 'shop', env: 'prod', app: 'web' },
          annotations: {},
          fingerprint: 'f1',
          startsAt: '2026-11-22T04:00:00Z',
        },
      ],
    };
    const [problem] = mapProblemDocument(payload, {
      fieldNames: { project: ['team_project'], stage: ['env'], service: ['app'] },
    });
    expect(problem?.spec).toMatchObject({
      project: 'shop',
      stage: 'prod',
      service: 'web',
      problemTitle: 'HighLatency',
    });
  });

  it('uses defaults when a payload names no project', () => {
    const payload = {
      version: '4',
      status: 'firing',
      alerts: [{ labels: { alertname: 'X', stage: 'dev', service: 'api' }, fingerprint: 'f2' }],
    };
    expect(mapProblemDocument(payload, { defaults: { project: 'shop' } })[0]?.spec.project).toBe('shop');
  });

  it('prefers a problemTitle annotation over alertname', () => {
    const payload = {
      version: '4',
      status: 'firing',
      alerts: [
        {
          labels: { alertname: 'X', project: 'p', stage: 's', service: 'v' },
          annotations: { problemTitle: 'Custom title' },
          fingerprint: 'f3',
        },
      ],
    };
    expect(mapProblemDocument(payload)[0]?.spec.problemTitle).toBe('Custom title');
  });
});

describe('invalid payloads name the field at fault', () => {
  const alert = alertmanagerGroup.alerts[0]!;
  const cases: { name: string; payload: unknown; field: string; message: RegExp }[] = [
    { name: 'not an object', payload: [1, 2], field: '(root)', message: /expected a JSON object/ },
    {
      name: 'unknown shape',
      payload: { hello: 'world' },
      field: '(root)',
      message: /not a recognised problem payload/,
    },
    {
      name: 'alertmanager version 3',
      payload: { ...alertmanagerGroup, version: '3' },
      field: 'version',
      message: /expected "4"/,
    },
    {
      name: 'no alerts',
      payload: { ...alertmanagerGroup, alerts: [] },
      field: 'alerts',
      message: /at least one alert/,
    },
    {
      name: 'alert is not an object',
      payload: { version: '4', alerts: ['x'] },
      field: 'alerts[0]',
      message: /expected an object/,
    },
    {
      name: 'alert without service',
      payload: {
        version: '4',
        status: 'firing',
        alerts: [{ ...alert, labels: { alertname: 'a', project: 'p', stage: 's' } }],
      },
      field: 'alerts[0].labels.service',
      message: /no service/,
    },
    {
      name: 'alert label not a string',
      payload: { version: '4', alerts: [{ ...alert, labels: { ...alert.labels, stage: 3 } }] },
      field: 'alerts[0].labels.stage',
      message: /expected a string/,
    },
    {
      name: 'alert with bad status',
      payload: { version: '4', alerts: [{ ...alert, status: 'pending' }] },
      field: 'alerts[0].status',
      message: /firing.*resolved/,
    },
    {
      name: 'project not DNS-1123',
      payload: { version: '4', alerts: [{ ...alert, labels: { ...alert.labels, project: 'Sock_Shop' } }] },
      field: 'alerts[0].labels.project',
      message: /DNS-1123/,
    },
    {
      name: 'second alert without title',
      payload: {
        version: '4',
        status: 'firing',
        alerts: [alert, { labels: { project: 'p', stage: 's', service: 'v' }, fingerprint: 'x' }],
      },
      field: 'alerts[1].labels.problemTitle',
      message: /no problemTitle/,
    },
    {
      name: 'cloudevent of another type',
      payload: { ...seedRemediationTrigger, type: 'sh.keptn.event.evaluation.finished' },
      field: 'type',
      message: /unsupported event type/,
    },
    {
      name: 'cloudevent without data',
      payload: { type: 'sh.keptn.event.production.remediation.triggered', specversion: '1.0' },
      field: 'data',
      message: /expected an object/,
    },
    {
      name: 'cloudevent data is a broken JSON string',
      payload: { ...seedRemediationTrigger, data: '{"project": ' },
      field: 'data',
      message: /not a valid JSON object/,
    },
    {
      name: 'cloudevent without problem',
      payload: { ...seedRemediationTrigger, data: { project: 'p', stage: 'production', service: 's' } },
      field: 'data.problem',
      message: /is required/,
    },
    {
      name: 'cloudevent without title',
      payload: { ...seedRemediationTrigger, data: { ...seedRemediationTrigger.data, problem: { rootCause: 'x' } } },
      field: 'data.problem.problemTitle',
      message: /is required/,
    },
    {
      name: 'cloudevent stage disagrees with type',
      payload: { ...seedRemediationTrigger, data: { ...seedRemediationTrigger.data, stage: 'qa' } },
      field: 'data.stage',
      message: /does not match/,
    },
    {
      name: 'cloudevent without project',
      payload: { ...seedRemediationTrigger, data: { ...seedRemediationTrigger.data, project: '' } },
      field: 'data.project',
      message: /is required/,
    },
    {
      name: 'dynatrace without keptn tags',
      payload: { ...dynatraceBare, Tags: 'app:carts' },
      field: 'project',
      message: /KeptnProject, or a tag project:<value> \/ keptn_project:<value>/,
    },
    {
      name: 'dynatrace with an empty KeptnService and no tag',
      payload: { ...dynatraceBare, Tags: 'app:carts', KeptnProject: 'p', KeptnStage: 's', KeptnService: ' ' },
      field: 'service',
      message: /KeptnService/,
    },
    {
      name: 'dynatrace with unknown state',
      payload: { ...dynatraceBare, State: 'WEIRD' },
      field: 'State',
      message: /OPEN, RESOLVED/,
    },
    {
      name: 'dynatrace title too long',
      payload: { ...dynatraceBare, ProblemTitle: 'x'.repeat(1025) },
      field: 'ProblemTitle',
      message: /longer than 1024/,
    },
    {
      name: 'manifest of another apiVersion',
      payload: { ...manifest, apiVersion: 'rebound.dev/v1' },
      field: 'apiVersion',
      message: /rebound.dev\/v1alpha1/,
    },
    {
      name: 'manifest with bad state',
      payload: { ...manifest, spec: { ...manifest.spec, state: 'open' } },
      field: 'spec.state',
      message: /OPEN or RESOLVED/,
    },
    {
      name: 'manifest with bad name',
      payload: { ...manifest, metadata: { name: 'Carts!' } },
      field: 'metadata.name',
      message: /not a valid object name/,
    },
    {
      name: 'manifest without spec',
      payload: { apiVersion: manifest.apiVersion, kind: 'ProblemEvent' },
      field: 'spec',
      message: /expected an object/,
    },
  ];

  it.each(cases)('$name → $field', ({ payload, field, message }) => {
    let caught: unknown;
    try {
      mapProblemDocument(payload);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidPayloadError);
    expect(caught).toBeInstanceOf(ReboundError);
    const error = caught as InvalidPayloadError;
    expect(error.code).toBe('InvalidPayload');
    expect(error.retryable).toBe(false);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});
