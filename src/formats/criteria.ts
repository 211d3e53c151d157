// The SLO criteria grammar exactly as Keptn's lighthouse parsed it (keptn-semantics.md §3.3).
//
//   <600      absolute threshold: measured < 600
//   <=+10%    relative: measured <= aggregate of earlier results * 1.10   (`<=10%` means the same)
//   >=-5%     relative: measured >= aggregate * 0.95
//   <=+10     relative absolute delta: measured <= aggregate + 10
//   =-1       relative absolute delta: measured == aggregate - 1
//
// All spaces are removed first. There is no way to write a negative absolute threshold: a sign
// always means "relative to earlier results".

export const OPERATORS = ['<=', '<', '=', '>=', '>'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Criterion =
  | { readonly raw: string; readonly kind: 'absolute'; readonly operator: Operator; readonly threshold: number }
  | {
      readonly raw: string;
      readonly kind: 'relative';
      readonly operator: Operator;
      /** `percent`: a percentage of the aggregate; `delta`: an absolute amount added to or taken from it. */
      readonly unit: 'percent' | 'delta';
      readonly direction: 'increase' | 'decrease';
      readonly amount: number;
    };

export type CriterionParse = { ok: true; criterion: Criterion } | { ok: false; message: string };

// Keptn's prefix check: 1-2 operator characters, then an optional sign, a number and an optional %.
// Only the start is checked; trailing junk fails later when the number is parsed.
const PREFIX = /^[<>=|]{1,2}[-+]?\d*\.?\d*%?/;

export function parseCriterion(raw: string): CriterionParse {
  let rest = raw.replaceAll(' ', '');
  if (!PREFIX.test(rest)) {
    return {
      ok: false,
      message: `invalid criteria string "${raw}": expected an operator (<, <=, =, >=, >) followed by a number, e.g. "<600" or "<=+10%"`,
    };
  }
  let percent = false;
  if (rest.endsWith('%')) {
    percent = true;
    rest = rest.slice(0, -1);
  }
  // The first operator that prefixes the text wins, in this order, so `==5` and `=>5` fail below.
  const operator = OPERATORS.find((op) => rest.startsWith(op));
  if (operator !== undefined) rest = rest.slice(operator.length);
  let sign: '+' | '-' | undefined;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? '-' : '+';
    rest = rest.slice(1);
  }
  const value = parseGoFloat(rest);
  if (operator === undefined || value === undefined) {
    return { ok: false, message: `could not parse criteria target value in "${raw}"` };
  }
  if (!percent && sign === undefined)
    return { ok: true, criterion: { raw, kind: 'absolute', operator, threshold: value } };
  return {
    ok: true,
    criterion: {
      raw,
      kind: 'relative',
      operator,
      unit: percent ? 'percent' : 'delta',
      direction: sign === '-' ? 'decrease' : 'increase',
      amount: value,
    },
  };
}

/** Plain float comparison, as lighthouse did (`=` is exact equality). */
export function compare(measured: number, operator: Operator, target: number): boolean {
  switch (operator) {
    case '<':
      return measured < target;
    case '<=':
      return measured <= target;
    case '=':
      return measured === target;
    case '>=':
      return measured >= target;
    case '>':
      return measured > target;
  }
}

/** The value a relative criterion compares against, given the aggregate of earlier results. */
export function relativeTarget(criterion: Extract<Criterion, { kind: 'relative' }>, aggregate: number): number {
  const signed = criterion.direction === 'increase' ? criterion.amount : -criterion.amount;
  return criterion.unit === 'percent' ? (aggregate * (100 + signed)) / 100 : aggregate + signed;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * Parses a float the way Go's strconv.ParseFloat accepts decimal input (Keptn's parser): an optional
 * sign, digits with an optional fraction and exponent, or Inf/NaN. Returns undefined otherwise.
 */
export function parseGoFloat(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text);
  const special = SPECIAL.exec(text);
  if (special) {
    if (special[2]?.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return undefined;
}
