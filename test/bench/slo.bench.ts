// SLO engine throughput: objectives evaluated per second for a realistic slo.yaml (8 objectives:
// absolute, relative %, relative delta, OR-ed sets, a key SLI, an informational one) compared
// against 5 earlier evaluations with p90 aggregation. Bounded: a fixed number of evaluations.
// Run: node test/bench/slo.bench.ts
import { performance } from 'node:perf_hooks';
import { evaluateSlo } from '../../src/evaluation/engine.ts';
import type { IndicatorValue, PreviousEvaluation } from '../../src/evaluation/types.ts';
import { parseSloFile } from '../../src/formats/slo.ts';

const SLO = `spec_version: "0.1.1"
comparison:
  compare_with: several_results
  include_result_with_score: pass_or_warn
  number_of_comparison_results: 5
  aggregate_function: p90
objectives:
  - sli: response_time_p95
    key_sli: true
    pass:
      - criteria: ["<=+10%", "<600"]
    warning:
      - criteria: ["<=800"]
  - sli: response_time_p50
    pass:
      - criteria: ["<=+10%", "<300"]
    warning:
      - criteria: ["<=500"]
  - sli: error_rate
    weight: 2
    pass:
      - criteria: ["<=1"]
      - criteria: ["<=+0.5"]
    warning:
      - criteria: ["<=5"]
  - sli: throughput
    pass:
      - criteria: [">=-5%"]
  - sli: cpu_usage
    pass:
      - criteria: ["<80"]
  - sli: memory_usage
    pass:
      - criteria: ["<=+20%", "<2048"]
  - sli: problem_open
    key_sli: true
    pass:
      - criteria: ["=0"]
  - sli: pod_restarts
total_score:
  pass: "90%"
  warning: "75%"
`;

const parsed = parseSloFile('slo.yaml', SLO);
if (!parsed.ok) throw new Error('benchmark slo.yaml does not parse');
const slo = parsed.slo;
const metrics = slo.objectives.map((o) => o.sli);
const base: Record<string, number> = {
  response_time_p95: 450,
  response_time_p50: 180,
  error_rate: 0.4,
  throughput: 120,
  cpu_usage: 55,
  memory_usage: 900,
  problem_open: 0,
  pod_restarts: 1,
};

// Deterministic variety so every branch (pass, warning, fail) is taken.
function indicatorsFor(i: number): IndicatorValue[] {
  return metrics.map((metric, k) => {
    const jitter = 1 + (((i * 31 + k * 17) % 41) - 20) / 100;
    return (i + k) % 97 === 0
      ? { metric, value: 0, success: false, message: 'query did not return any values' }
      : { metric, value: (base[metric] ?? 1) * jitter, success: true };
  });
}

const history: PreviousEvaluation[] = Array.from({ length: 7 }, (_, h) => ({
  result: h === 2 ? 'fail' : h % 3 === 0 ? 'warning' : 'pass',
  indicatorResults: metrics.map((metric, k) => ({
    metric,
    value: (base[metric] ?? 1) * (1 + ((h * 7 + k) % 9) / 100),
    success: (h + k) % 11 !== 0,
  })),
}));

const WARMUP = 2_000;
const EVALUATIONS = 50_000;
const inputs = Array.from({ length: 256 }, (_, i) => indicatorsFor(i));

let sink = 0;
for (let i = 0; i < WARMUP; i++)
  sink += evaluateSlo({ slo, indicators: inputs[i % inputs.length] ?? [], previous: history }).score;

const verdicts: Record<string, number> = { pass: 0, warning: 0, fail: 0 };
const t0 = performance.now();
for (let i = 0; i < EVALUATIONS; i++) {
  const result = evaluateSlo({ slo, indicators: inputs[i % inputs.length] ?? [], previous: history });
  sink += result.score;
  verdicts[result.result] = (verdicts[result.result] ?? 0) + 1;
}
const seconds = (performance.now() - t0) / 1000;

const PARSES = 2_000;
const p0 = performance.now();
for (let i = 0; i < PARSES; i++) if (parseSloFile('slo.yaml', SLO).ok) sink++;
const parseSeconds = (performance.now() - p0) / 1000;

const objectives = EVALUATIONS * slo.objectives.length;
console.log(
  `slo engine: ${EVALUATIONS} evaluations x ${slo.objectives.length} objectives against ${history.length} earlier evaluations (p90 over 5) in ${seconds.toFixed(3)} s`,
);
console.log(`  objectives evaluated per second: ${Math.round(objectives / seconds).toLocaleString('en-US')}`);
console.log(`  evaluations per second:          ${Math.round(EVALUATIONS / seconds).toLocaleString('en-US')}`);
console.log(`  mean time per evaluation:        ${((seconds / EVALUATIONS) * 1e6).toFixed(1)} µs`);
console.log(`  verdicts: pass ${verdicts['pass']}, warning ${verdicts['warning']}, fail ${verdicts['fail']}`);
console.log(
  `slo.yaml parse (${SLO.length} bytes, located): ${Math.round(PARSES / parseSeconds).toLocaleString('en-US')} files per second`,
);
if (Number.isNaN(sink)) console.log('(unreachable)');
