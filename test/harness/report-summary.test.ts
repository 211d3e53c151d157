import { describe, expect, it } from 'vitest';
import { summarize } from './report-summary.ts';
import type { VitestJsonReport } from './report-summary.ts';

const report = (over: Partial<VitestJsonReport>): VitestJsonReport => ({
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  ...over,
});

describe('the closing summary of make test', () => {
  it('adds up the reports and exits 0 when nothing failed', () => {
    const { lines, exitCode } = summarize(
      [
        { file: 'unit.json', report: report({ numPassedTests: 3 }) },
        { file: 'integration.json', report: report({ numPassedTests: 2, numPendingTests: 1 }) },
      ],
      '/repo',
    );
    expect(lines).toEqual(['tests: 5 passed, 0 failed, 1 skipped']);
    expect(exitCode).toBe(0);
  });

  it('names each failed test with the start of its message, colours removed, above the count', () => {
    const { lines, exitCode } = summarize(
      [
        {
          file: 'integration.json',
          report: report({
            numPassedTests: 1,
            numFailedTests: 1,
            testResults: [
              {
                name: '/repo/test/integration/loop.test.ts',
                assertionResults: [
                  { fullName: 'loop (a) resolves', status: 'passed' },
                  {
                    fullName: 'loop (b) escalates',
                    status: 'failed',
                    failureMessages: ['AssertionError: expected \u001b[31m"Exhausted"\u001b[39m\nat line 2'],
                  },
                ],
              },
            ],
          }),
        },
      ],
      '/repo',
    );
    expect(lines).toEqual([
      'FAILED test/integration/loop.test.ts > loop (b) escalates',
      '  AssertionError: expected "Exhausted"\n  at line 2',
      'tests: 1 passed, 1 failed',
    ]);
    expect(exitCode).toBe(1);
  });

  it('cuts a long failure message and fails when a report is missing', () => {
    const long = 'x'.repeat(5000);
    const { lines, exitCode } = summarize(
      [
        { file: 'unit.json', report: undefined },
        {
          file: 'integration.json',
          report: report({
            numFailedTests: 1,
            testResults: [
              {
                name: '/repo/a.test.ts',
                assertionResults: [{ fullName: 'a', status: 'failed', failureMessages: [long] }],
              },
            ],
          }),
        },
      ],
      '/repo',
    );
    expect(lines[1]).toBe(`  ${'x'.repeat(1200)}…`);
    expect(lines).toContain('(no report from: unit.json)');
    expect(exitCode).toBe(1);
  });
});
