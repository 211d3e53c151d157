import { describe, expect, it } from 'vitest';
import { resolveQuery } from './placeholders.ts';
import type { PlaceholderContext } from './placeholders.ts';

const base: PlaceholderContext = {
  project: 'sockshop',
  stage: 'production',
  service: 'carts',
  start: new Date('2026-01-01T10:00:00Z'),
  end: new Date('2026-01-01T10:05:00Z'),
};

describe('resolveQuery (Keptn placeholders)', () => {
  it.each<[string, string, Partial<PlaceholderContext>, string]>([
    ['project, stage, service', 'up{job="$SERVICE-$PROJECT-$STAGE"}', {}, 'up{job="carts-sockshop-production"}'],
    ['every occurrence is replaced', '$SERVICE/$SERVICE', {}, 'carts/carts'],
    ['$DURATION_SECONDS is the window in whole seconds', 'rate(x[$DURATION_SECONDS])', {}, 'rate(x[300s])'],
    ['a partial second rounds up', '[$DURATION_SECONDS]', { end: new Date('2026-01-01T10:04:59.200Z') }, '[300s]'],
    ['$DEPLOYMENT from the event', 'x{d="$DEPLOYMENT"}', { deployment: 'canary' }, 'x{d="canary"}'],
    ['$DEPLOYMENT from the deployment label', 'x{d="$DEPLOYMENT"}', { labels: { deployment: 'blue' } }, 'x{d="blue"}'],
    ['$DEPLOYMENT defaults to primary', 'x{d="$DEPLOYMENT"}', {}, 'x{d="primary"}'],
    [
      '$LABEL.<key> from event labels',
      'x{pod="$LABEL.pod_name"}',
      { labels: { pod_name: 'carts-1' } },
      'x{pod="carts-1"}',
    ],
    ['longer label keys first', '$LABEL.ab $LABEL.a', { labels: { a: '1', ab: '2' } }, '2 1'],
    [
      'custom filter as $key and $KEY, quotes stripped',
      'x{h="$handler",H="$HANDLER"}',
      { customFilters: { handler: '"ItemsController"' } },
      'x{h="ItemsController",H="ItemsController"}',
    ],
    [
      'custom filters come first and can clobber a built-in (as in Keptn)',
      'x{s="$SERVICE"}',
      { customFilters: { SERV: 'zz' } },
      'x{s="zzICE"}',
    ],
    [
      'unknown placeholders stay verbatim',
      'x{a="$UNKNOWN",b="$LABEL.missing"}',
      {},
      'x{a="$UNKNOWN",b="$LABEL.missing"}',
    ],
  ])('%s', (_name, query, ctx, expected) => {
    expect(resolveQuery(query, { ...base, ...ctx })).toBe(expected);
  });
});
