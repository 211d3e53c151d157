// Go duration strings as Keptn writes them (`2m`, `90s`, `1h30m`, `1.5h`, `250ms`): the schema
// pattern the API server checks, and the parser the controller, the actions and the CLI share.

/** The CRD schemas' pattern for a duration field. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in `text`; throws a RangeError for anything DURATION_PATTERN would refuse. */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
    consumed += match[0].length;
  }
  if (consumed !== text.length || text.length === 0)
    throw new RangeError(`"${text}" is not a duration like 2m, 90s or 1h30m`);
  return total;
}
