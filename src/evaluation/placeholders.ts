// Keptn's query placeholders (prometheus-service replaceQueryParameters, keptn-semantics.md §3.9).
//
// Plain replace-all, in Keptn's order: custom filters ($key, then $KEY), $PROJECT, $STAGE,
// $SERVICE, $DEPLOYMENT, $LABEL.<key>, $DURATION_SECONDS. Unknown $X stay as written. Because the
// replacement is textual, a filter named like the start of another placeholder (`$SERVICE` vs a
// filter `SERV`) replaces part of it, exactly as Keptn did. Two deliberate differences, both only
// where Keptn was non-deterministic (Go map order): filters are applied in slo.yaml order, and
// labels longest key first, so `$LABEL.ab` is never clobbered by a label `a`.

export interface PlaceholderContext {
  project: string;
  stage: string;
  service: string;
  /** Keptn's $DEPLOYMENT; when absent the `deployment` label, else "primary". */
  deployment?: string;
  /** Event labels, available to queries as $LABEL.<key>. */
  labels?: Readonly<Record<string, string>>;
  /** The slo.yaml `filter` entries, available to queries as $<key> and $<KEY>. */
  customFilters?: Readonly<Record<string, string>>;
  /** The evaluation window: values are taken at `end`, over end − start ($DURATION_SECONDS). */
  start: Date;
  end: Date;
}

export function resolveQuery(query: string, ctx: PlaceholderContext): string {
  let q = query;
  for (const [key, raw] of Object.entries(ctx.customFilters ?? {})) {
    const value = raw.replaceAll("'", '').replaceAll('"', '');
    q = q.replaceAll(`$${key}`, value).replaceAll(`$${key.toUpperCase()}`, value);
  }
  q = q
    .replaceAll('$PROJECT', ctx.project)
    .replaceAll('$STAGE', ctx.stage)
    .replaceAll('$SERVICE', ctx.service)
    .replaceAll('$DEPLOYMENT', deploymentOf(ctx));
  const labels = Object.entries(ctx.labels ?? {}).sort(([a], [b]) => b.length - a.length);
  for (const [key, value] of labels) q = q.replaceAll(`$LABEL.${key}`, value);
  return q.replaceAll('$DURATION_SECONDS', `${durationSeconds(ctx.start, ctx.end)}s`);
}

/** The event's deployment, else the `deployment` label, else "primary" (Keptn). */
export function deploymentOf(ctx: Pick<PlaceholderContext, 'deployment' | 'labels'>): string {
  if (ctx.deployment !== undefined && ctx.deployment !== '') return ctx.deployment;
  const label = ctx.labels?.['deployment'];
  return label !== undefined && label !== '' ? label : 'primary';
}

/** Whole seconds of the window, rounded up (a 299.2 s window is `300s`). */
export function durationSeconds(start: Date, end: Date): number {
  return Math.ceil((end.getTime() - start.getTime()) / 1000);
}
