import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The real CLI, spawned as users run it.
const BIN = fileURLToPath(new URL('../../../bin/rebound.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rebound(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const SLO = `spec_version: "0.1.1"
comparison:
  aggregate_function: avg
  compare_with: several_results
  include_result_with_score: pass
  number_of_comparison_results: 2
objectives:
  - sli: response_time_p95
    displayName: Response time P95
    pass:
      - criteria: ["<=+10%", "<600"]
    warning:
      - criteria: ["<=800"]
  - sli: error_rate
    key_sli: true
    pass:
      - criteria: ["<=1"]
  - sli: throughput
total_score:
  pass: "90%"
  warning: "75%"
`;

let dir: string;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rebound-evaluate-'));
  await writeFile(file('slo.yaml'), SLO);
  await writeFile(
    file('good.json'),
    JSON.stringify([
      { metric: 'response_time_p95', value: 500, success: true },
      { metric: 'error_rate', value: 0, success: true },
      { metric: 'throughput', value: 42, success: true },
    ]),
  );
  // Keptn's get-sli.finished shape, in YAML.
  await writeFile(
    file('keptn.yaml'),
    'indicatorValues:\n  - metric: response_time_p95\n    value: 700\n    success: true\n  - metric: error_rate\n    value: 0\n    success: true\n',
  );
  await writeFile(
    file('key-failed.json'),
    JSON.stringify({
      indicatorValues: [
        { metric: 'response_time_p95', value: 100, success: true },
        { metric: 'error_rate', value: 0, success: false, message: 'query did not return any values' },
      ],
    }),
  );
  await writeFile(
    file('prev-pass.json'),
    JSON.stringify({ result: 'pass', indicatorResults: [{ metric: 'response_time_p95', value: 400 }] }),
  );
  await writeFile(
    file('prev-fail.json'),
    JSON.stringify({ result: 'fail', indicatorResults: [{ metric: 'response_time_p95', value: 100 }] }),
  );
  await writeFile(file('prev-bare.json'), JSON.stringify([{ metric: 'response_time_p95', value: 500, success: true }]));
  await writeFile(
    file('bad-slo.yaml'),
    'objectives:\n  - sli: rt\n    pass:\n      - criteria:\n          - "<<600"\ntotal_score: {pass: 90}\n',
  );
  await writeFile(file('bad-values.json'), '[{"metric": "rt", "value": "fast", "success": true}]');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rebound evaluate', () => {
  it('prints the JSON report and exits 0 on pass', async () => {
    const run = await rebound(['evaluate', '--slo', file('slo.yaml'), '--indicators', file('good.json'), '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toEqual({
      result: 'pass',
      score: 100,
      indicatorResults: [
        {
          metric: 'response_time_p95',
          value: 500,
          status: 'pass',
          score: 1,
          keySli: false,
          comparedValue: 0,
          passTargets: [
            { criteria: '<=+10%', targetValue: 0, violated: false },
            { criteria: '<600', targetValue: 600, violated: false },
          ],
          warningTargets: [{ criteria: '<=800', targetValue: 800, violated: false }],
        },
        {
          metric: 'error_rate',
          value: 0,
          status: 'pass',
          score: 1,
          keySli: true,
          comparedValue: 0,
          passTargets: [{ criteria: '<=1', targetValue: 1, violated: false }],
          warningTargets: [],
        },
        {
          metric: 'throughput',
          value: 42,
          status: 'info',
          score: 0,
          keySli: false,
          comparedValue: 0,
          passTargets: [],
          warningTargets: [],
        },
      ],
    });
  });

  it('compares with earlier evaluations filtered by include_result_with_score, newest first', async () => {
    // prev-fail is skipped (include pass); prev-pass (400) and prev-bare (500) average to 450: 500 > 495.
    const run = await rebound([
      'evaluate',
      '--slo',
      file('slo.yaml'),
      '--indicators',
      file('good.json'),
      '--json',
      '--previous',
      file('prev-fail.json'),
      '--previous',
      file('prev-pass.json'),
      '--previous',
      file('prev-bare.json'),
    ]);
    const report = JSON.parse(run.stdout) as {
      result: string;
      score: number;
      indicatorResults: { comparedValue: number; status: string; passTargets: unknown[] }[];
    };
    expect(report.indicatorResults[0]?.comparedValue).toBe(450);
    expect(report.indicatorResults[0]?.passTargets[0]).toEqual({
      criteria: '<=+10%',
      targetValue: 495,
      violated: true,
    });
    expect(report.indicatorResults[0]?.status).toBe('warning');
    expect(report.result).toBe('warning');
    expect(report.score).toBe(75);
    expect(run.code).toBe(0);
  });

  it('reads its own JSON output back as an earlier evaluation', async () => {
    const first = await rebound(['evaluate', '--slo', file('slo.yaml'), '--indicators', file('good.json'), '--json']);
    await writeFile(file('own.json'), first.stdout);
    const run = await rebound([
      'evaluate',
      '--slo',
      file('slo.yaml'),
      '--indicators',
      file('keptn.yaml'),
      '--json',
      '--previous',
      file('own.json'),
    ]);
    const report = JSON.parse(run.stdout) as { indicatorResults: { metric: string; comparedValue: number }[] };
    expect(report.indicatorResults.map((r) => [r.metric, r.comparedValue])).toEqual([
      ['response_time_p95', 500],
      ['error_rate', 0],
      ['throughput', 42],
    ]);
  });

  it('fails with exit 1 when a key SLI has no value, and explains it in the table', async () => {
    const run = await rebound(['evaluate', '--slo', file('slo.yaml'), '--indicators', file('key-failed.json')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^OBJECTIVE +VALUE +COMPARED +PASS +WARNING +STATUS +POINTS$/m);
    expect(run.stdout).toMatch(/^error_rate \[key\] +no value +- +<=1 ✗ +- +fail +0\/1$/m);
    expect(run.stdout).toMatch(/^ {2}error_rate: query did not return any values$/m);
    expect(run.stdout).toMatch(/^Result: FAIL {2}score 50% \(1 of 2 points; pass >= 90%, warning >= 75%\)$/m);
    expect(run.stdout).toContain("key SLI objective 'error_rate' failed: query did not return any values");
  });

  it('exits 2 with the located error for an unparsable criterion', async () => {
    const run = await rebound(['evaluate', '--slo', file('bad-slo.yaml'), '--indicators', file('good.json')]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `rebound evaluate: ${file('bad-slo.yaml')}:5:13: could not parse criteria target value in "<<600"\n`,
    );
  });

  it('exits 2 for malformed indicator values, a missing file and a missing option', async () => {
    const values = await rebound(['evaluate', '--slo', file('slo.yaml'), '--indicators', file('bad-values.json')]);
    expect(values.code).toBe(2);
    expect(values.stderr).toContain(`${file('bad-values.json')}:1:28: the value of "rt" must be a finite number`);
    const missing = await rebound(['evaluate', '--slo', file('nope.yaml'), '--indicators', file('good.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${file('nope.yaml')}: no such file`);
    const option = await rebound(['evaluate', '--slo', file('slo.yaml')]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('--indicators is required');
  });
});
