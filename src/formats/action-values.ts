// The value grammar of Keptn's feature-toggle actions, shared by the file parser (which reports a
// bad value at its line) and the values edit (which carries it out): `Flag:on`, several pairs
// separated by commas, or Keptn's unleash-service map `{EnableItemCache: "on"}`, each key a flag.

export interface ToggleValue {
  flag: string;
  on: boolean;
}

/** As many flags as one action may set (FEATURE_TOGGLE_VALUE_PATTERN allows the same). */
export const MAX_TOGGLES = 16;
const FLAG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * The flags a featuretoggle value sets, in order, or undefined when it is not one. `on`/`off` (also
 * true/false, any case) are read as words, never as YAML 1.1 booleans; each flag may appear once.
 */
export function readToggles(value: unknown): ToggleValue[] | undefined {
  let pairs: [string, unknown][] = [];
  if (typeof value === 'string') {
    pairs = value.split(',').map((part): [string, unknown] => {
      const colon = part.lastIndexOf(':');
      return colon > 0 ? [part.slice(0, colon).trim(), part.slice(colon + 1).trim()] : ['', undefined];
    });
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    pairs = Object.entries(value as Record<string, unknown>);
  }
  const toggles: ToggleValue[] = [];
  for (const [flag, state] of pairs) {
    const on = typeof state === 'boolean' ? state : typeof state === 'string' ? toggleWord(state) : undefined;
    if (on === undefined || !FLAG_NAME.test(flag) || toggles.some((t) => t.flag === flag)) return undefined;
    toggles.push({ flag, on });
  }
  return toggles.length > 0 && toggles.length <= MAX_TOGGLES ? toggles : undefined;
}

/** The canonical text of toggles: `EnableItemCache:on,EnablePromotion:off`. */
export function formatToggles(toggles: readonly ToggleValue[]): string {
  return toggles.map((t) => `${t.flag}:${t.on ? 'on' : 'off'}`).join(',');
}

function toggleWord(word: string): boolean | undefined {
  switch (word.toLowerCase()) {
    case 'on':
    case 'true':
      return true;
    case 'off':
    case 'false':
      return false;
    default:
      return undefined;
  }
}
