// The web UI on the controller's caches: the informers that feed its live view (their handlers only
// say which object changed), its health, and where its SLI charts read Prometheus (by the evaluation's
// own URL rule). The composition root (wire.ts) hands it the parts; every replica serves it.
import type { Logger } from 'pino';
import type { Approval, ProblemEvent, Project, Remediation } from '../api/index.ts';
import { prometheusRangeClients } from '../evaluation/providers/prometheus-range.ts';
import type { RangeTargets } from '../evaluation/providers/prometheus-range.ts';
import type { SupervisedInformer } from '../runtime/informer.ts';
import type { HasMetadata } from '../runtime/keys.ts';
import type { Manager } from '../runtime/manager.ts';
import type { UiKube } from './ports.ts';
import { uiRunnable } from './runnable.ts';
import { UiChanges } from './server.ts';

export interface UiSetup {
  address: { host: string; port: number };
  informers: {
    problems: SupervisedInformer<ProblemEvent>;
    projects: SupervisedInformer<Project>;
    remediations: SupervisedInformer<Remediation>;
    approvals: SupervisedInformer<Approval>;
  };
  /** This replica's identity and whether it leads, for the health panel. */
  identity: string;
  leading: () => boolean;
  kube: UiKube;
  /** The controller's Prometheus (--prometheus-url, --prometheus-allowed-hosts). */
  prometheus: RangeTargets;
  /** The problem's Remediation, whose `evaluation.prometheusURL` its charts read. */
  findRemediation: (problem: ProblemEvent) => Remediation | undefined;
  log: Logger;
  now: () => number;
}

export function setupUi(manager: Manager, deps: UiSetup): void {
  const { problems, projects, remediations, approvals } = deps.informers;
  const changes = new UiChanges();
  const feed = (kind: string) => {
    const tell = (o: HasMetadata): void => changes.notify(kind, o.metadata?.namespace ?? '', o.metadata?.name ?? '');
    return { onAdd: tell, onUpdate: (_old: HasMetadata, o: HasMetadata) => tell(o), onDelete: tell };
  };
  problems.addHandler(feed('problemevents'));
  approvals.addHandler(feed('approvals'));
  projects.addHandler(feed('projects'));
  const informers = [projects, remediations, problems, approvals];
  const rangeClients = prometheusRangeClients(deps.prometheus);
  manager.add(
    uiRunnable(
      {
        ...deps.address,
        cache: {
          problems: () => problems.list(),
          problem: (namespace, name) => problems.get(`${namespace}/${name}`),
          projects: () => projects.list(),
          remediations: () => remediations.list(),
          approvals: (namespace, problem) =>
            approvals.list().filter((a) => a.metadata.namespace === namespace && a.spec.problem === problem),
        },
        health: {
          identity: deps.identity,
          informers: () => informers.map((i) => ({ name: i.name, synced: i.hasSynced() })),
          leading: deps.leading,
        },
        kube: deps.kube,
        sliSeries: {
          range: (problem, query, start, end) => {
            const client = rangeClients(deps.findRemediation(problem)?.spec.evaluation?.prometheusURL);
            return 'refused' in client
              ? Promise.resolve({ ok: false, message: client.refused })
              : client.range({ query, start, end });
          },
        },
        log: deps.log,
        now: deps.now,
      },
      changes,
    ),
  );
}
