// Prints one closing line for a whole `make test` run from vitest's JSON reports:
// "tests: N passed, N failed" (the plain form CI reads), plus skipped when any were skipped.
// Each failed test is named above it with the start of its failure, so the last lines of a CI log
// (often all that is kept) say what failed and why.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

export interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: {
    name: string;
    assertionResults?: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

/** How much of each failure message is repeated at the end. */
const FAILURE_CHARS = 1200;
// eslint-disable-next-line no-control-regex -- ANSI colour codes are control characters
const ANSI = /\u001b\[[0-9;]*m/g;

/** The closing lines for these reports (undefined: a report that was never written) and the exit code. */
export function summarize(
  reports: { file: string; report: VitestJsonReport | undefined }[],
  root: string,
): { lines: string[]; exitCode: number } {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const missing: string[] = [];
  const lines: string[] = [];
  for (const { file, report } of reports) {
    if (!report) {
      missing.push(file);
      continue;
    }
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    for (const result of report.testResults ?? []) {
      for (const test of result.assertionResults ?? []) {
        if (test.status !== 'failed') continue;
        const message = (test.failureMessages ?? []).join('\n').replace(ANSI, '').trim();
        const short = message.length > FAILURE_CHARS ? `${message.slice(0, FAILURE_CHARS)}…` : message;
        lines.push(`FAILED ${relative(root, result.name)} > ${test.fullName}`, `  ${short.replace(/\n/g, '\n  ')}`);
      }
    }
  }
  if (missing.length > 0) lines.push(`(no report from: ${missing.join(', ')})`);
  lines.push(`tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  return { lines, exitCode: failed > 0 || missing.length > 0 ? 1 : 0 };
}

if (import.meta.main) {
  const reports = process.argv.slice(2).map((file) => ({
    file,
    report: existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as VitestJsonReport) : undefined,
  }));
  const { lines, exitCode } = summarize(reports, process.cwd());
  for (const line of lines) console.log(line);
  process.exitCode = exitCode;
}
