import { describe, expect, it } from 'vitest';
import { formatOpenMetrics } from './prometheus.ts';

describe('formatOpenMetrics', () => {
  it('writes families with sorted samples, _total on counters, escaped labels and # EOF', () => {
    const text = formatOpenMetrics([
      {
        name: 'http_requests',
        type: 'counter',
        help: 'Requests served',
        series: [
          {
            labels: { service: 'carts', path: '/a"b' },
            samples: [
              { timestamp: 120, value: 5 },
              { timestamp: 60, value: 2 },
            ],
          },
        ],
      },
      {
        name: 'up',
        series: [
          {
            samples: [
              { timestamp: 60.5, value: 1 },
              { timestamp: 61, value: Number.NaN },
            ],
          },
        ],
      },
    ]);
    expect(text).toBe(
      [
        '# TYPE http_requests counter',
        '# HELP http_requests Requests served',
        'http_requests_total{service="carts",path="/a\\"b"} 2 60',
        'http_requests_total{service="carts",path="/a\\"b"} 5 120',
        '# TYPE up gauge',
        'up 1 60.5',
        'up NaN 61',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('accepts a counter already named *_total', () => {
    expect(
      formatOpenMetrics([
        { name: 'errors_total', type: 'counter', series: [{ samples: [{ timestamp: 1, value: 3 }] }] },
      ]),
    ).toBe('# TYPE errors counter\nerrors_total 3 1\n# EOF\n');
  });

  it('rejects names Prometheus would reject', () => {
    expect(() => formatOpenMetrics([{ name: 'bad-name', series: [] }])).toThrow('invalid metric name "bad-name"');
    expect(() => formatOpenMetrics([{ name: 'ok', series: [{ labels: { '1x': 'v' }, samples: [] }] }])).toThrow(
      'invalid label name "1x"',
    );
  });
});
