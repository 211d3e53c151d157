// `rebound evaluate`: one SLO evaluation offline, scored exactly as Keptn's lighthouse did.
// Exit 0 for pass or warning, 1 for fail, 2 for bad input.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { errorMessage } from '../../errors.ts';
import { parseSloFile } from '../../formats/slo.ts';
import { formatDiagnostic } from '../../formats/yaml.ts';
import type { Diagnostic } from '../../formats/yaml.ts';
import { evaluateSlo } from '../../evaluation/engine.ts';
import { parseIndicatorsDocument, parsePreviousDocument } from '../../evaluation/inputs.ts';
import { formatEvaluationTable, toJsonReport } from '../../evaluation/report.ts';
import type { PreviousEvaluation } from '../../evaluation/types.ts';
import type { Command } from './command.ts';

const HELP = `Usage: rebound evaluate --slo FILE --indicators FILE [--previous FILE ...] [--json]

Scores SLI values against a Keptn slo.yaml with Keptn's rules.

  --slo FILE         the slo.yaml
  --indicators FILE  SLI values: a JSON or YAML list of {metric, value, success, message?},
                     or Keptn's {indicatorValues: [...]}
  --previous FILE    one earlier evaluation, newest first (repeatable): a list of
                     {metric, value, success?}, or {result, indicatorResults: [...]} (such as the
                     output of --json), filtered by the SLO's include_result_with_score
  --json             print {"result","score","indicatorResults":[...]} instead of a table

Exit status: 0 pass or warning, 1 fail, 2 bad input.
`;

export const command: Command = {
  summary: 'Evaluate SLI values against an slo.yaml, offline',
  run,
};

async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        slo: { type: 'string' },
        indicators: { type: 'string' },
        previous: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    return badInput([`${errorMessage(err)}`], true);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.slo === undefined || values.indicators === undefined) {
    return badInput([`${values.slo === undefined ? '--slo' : '--indicators'} is required`], true);
  }

  const problems: string[] = [];
  const sloText = await readInput(values.slo, problems);
  const indicatorsText = await readInput(values.indicators, problems);
  const previousTexts = await Promise.all(
    (values.previous ?? []).map(async (file) => ({ file, text: await readInput(file, problems) })),
  );
  if (problems.length > 0) return badInput(problems, false);

  const slo = parseSloFile(values.slo, sloText ?? '');
  const indicators = parseIndicatorsDocument(values.indicators, indicatorsText ?? '');
  const previous: PreviousEvaluation[] = [];
  const diagnostics: Diagnostic[] = [];
  if (!slo.ok) diagnostics.push(...slo.diagnostics);
  if (!indicators.ok) diagnostics.push(...indicators.diagnostics);
  for (const { file, text } of previousTexts) {
    const parsed = parsePreviousDocument(file, text ?? '');
    if (parsed.ok) previous.push(parsed.value);
    else diagnostics.push(...parsed.diagnostics);
  }
  if (!slo.ok || !indicators.ok || diagnostics.length > 0) return badInput(diagnostics.map(formatDiagnostic), false);

  for (const warning of slo.slo.warnings) process.stderr.write(`warning: ${formatDiagnostic(warning)}\n`);
  const result = evaluateSlo({ slo: slo.slo, indicators: indicators.value, previous });
  process.stdout.write(
    values.json ? JSON.stringify(toJsonReport(result), null, 2) + '\n' : formatEvaluationTable(slo.slo, result),
  );
  return result.result === 'fail' ? 1 : 0;
}

async function readInput(file: string, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read: ${errorMessage(err)}`);
    return undefined;
  }
}

function badInput(lines: string[], withUsage: boolean): number {
  for (const line of lines) process.stderr.write(`rebound evaluate: ${line}\n`);
  if (withUsage) process.stderr.write(`\n${HELP}`);
  return 2;
}
