import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CRD_DIR, writeCrds } from './generate-crds.ts';
import {
  API_VERSION,
  FEATURE_TOGGLE_VALUE_PATTERN,
  PHASES,
  REASONS,
  SCALE_VALUE_PATTERN,
  DNS1123_LABEL_PATTERN,
  renderCrdFiles,
} from './index.ts';
import type {
  Attempt,
  Condition,
  Phase,
  ProblemEvent,
  ProblemEventSpec,
  Project,
  RemediationAction,
  RemediationSpec,
} from './index.ts';

describe('crds/', () => {
  it('is generated from src/api/schemas.ts (run `node src/api/generate-crds.ts` after a schema change)', async () => {
    const expected = renderCrdFiles();
    const onDisk = (await readdir(DEFAULT_CRD_DIR)).filter((n) => n.endsWith('.yaml')).sort();
    expect(onDisk).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) {
      expect(await readFile(`${DEFAULT_CRD_DIR}/${name}`, 'utf8'), name).toBe(text);
    }
  });

  it("gives every resource the status subresource (but a person's Approval), the rebound category and short names", () => {
    for (const [name, text] of renderCrdFiles()) {
      const crd = parse(text) as {
        spec: {
          names: { shortNames: string[]; categories: string[] };
          versions: { subresources: unknown; schema: { openAPIV3Schema: { type: string } } }[];
        };
      };
      const version = crd.spec.versions[0];
      expect(version?.subresources, name).toEqual(name === 'rebound.dev_approvals.yaml' ? undefined : { status: {} });
      expect(version?.schema.openAPIV3Schema.type, name).toBe('object');
      expect(crd.spec.names.categories, name).toEqual(['rebound']);
      expect(crd.spec.names.shortNames.length, name).toBeGreaterThan(0);
    }
  });

  it('prints project, stage, service, problem, phase, attempt, action, result and age for ProblemEvents', () => {
    const text = renderCrdFiles().get('rebound.dev_problemevents.yaml') ?? '';
    const crd = parse(text) as {
      spec: { versions: { additionalPrinterColumns: { name: string; priority?: number }[] }[] };
    };
    const shown = crd.spec.versions[0]?.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name);
    expect(shown).toEqual(['Project', 'Stage', 'Service', 'Problem', 'Phase', 'Attempt', 'Action', 'Result', 'Age']);
    const wide = crd.spec.versions[0]?.additionalPrinterColumns.filter((c) => c.priority).map((c) => c.name);
    expect(wide).toEqual(['State', 'Next-Evaluation', 'Waiting-For', 'Approval', 'Needed', 'Revert', 'Revert-At']);
  });
});

describe('patterns shared by the CRDs and the parsers', () => {
  it.each([
    ['2', true],
    ['+1', true],
    ['-1', true],
    ['0', true],
    ['one', false],
    ['+', false],
    ['1.5', false],
    ['++1', false],
    ['', false],
  ])('scale value %j valid: %s', (value, ok) => {
    expect(new RegExp(SCALE_VALUE_PATTERN).test(value)).toBe(ok);
  });

  it.each([
    ['EnablePromotion:on', true],
    ['EnableItemCache:off', true],
    ['EnablePromotion:true', false],
    ['EnablePromotion', false],
    [':on', false],
    ['EnablePromotion: on', false],
    ['EnableItemCache:on,EnablePromotion:off', true],
    ['EnableItemCache:on,', false],
    ['A:on;B:off', false],
    ['A:on,,B:off', false],
    [',A:on', false],
  ])('feature toggle value %j valid: %s', (value, ok) => {
    expect(new RegExp(FEATURE_TOGGLE_VALUE_PATTERN).test(value)).toBe(ok);
  });

  it.each([
    ['carts', true],
    ['sock-shop', true],
    ['Carts', false],
    ['-carts', false],
    ['carts_db', false],
  ])('DNS-1123 label %j valid: %s', (value, ok) => {
    expect(new RegExp(DNS1123_LABEL_PATTERN).test(value)).toBe(ok);
  });
});

describe('types derived from the schemas', () => {
  it('match the shared contracts', () => {
    expectTypeOf<ProblemEventSpec['state']>().toEqualTypeOf<'OPEN' | 'RESOLVED'>();
    expectTypeOf<ProblemEventSpec['project']>().toEqualTypeOf<string>();
    expectTypeOf<ProblemEventSpec['rootCause']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ProblemEventSpec['details']>().toEqualTypeOf<Record<string, unknown> | undefined>();
    expectTypeOf<RemediationAction>().toEqualTypeOf<{
      name: string;
      action: string;
      value: string;
      valueMap?: Record<string, unknown>;
      description?: string;
      approval?: 'required';
    }>();
    expectTypeOf<Condition['status']>().toEqualTypeOf<'True' | 'False' | 'Unknown'>();
    expectTypeOf<Condition['observedGeneration']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<NonNullable<ProblemEvent['status']>['phase']>().toEqualTypeOf<Phase | undefined>();
    expectTypeOf<Attempt['result']>().toEqualTypeOf<'pass' | 'warning' | 'fail' | undefined>();
    expectTypeOf<RemediationSpec['remediations'][number]['actionsOnOpen']>().toEqualTypeOf<RemediationAction[]>();
    expectTypeOf<NonNullable<Project['spec']['stages']>[number]['remediation']>().toEqualTypeOf<
      'automated' | 'manual' | 'disabled' | undefined
    >();
    expectTypeOf<Project['apiVersion']>().toEqualTypeOf<'rebound.dev/v1alpha1'>();
    expect(API_VERSION).toBe('rebound.dev/v1alpha1');
  });

  it('lists the phases in life-cycle order and PascalCase reasons', () => {
    expect(PHASES).toEqual([
      'Pending',
      'AwaitingApproval',
      'Remediating',
      'Evaluating',
      'Reverting',
      'Resolved',
      'Reverted',
      'Exhausted',
      'Unhandled',
    ]);
    for (const [key, reason] of Object.entries(REASONS)) {
      expect(reason).toBe(key);
      expect(reason).toMatch(/^[A-Z][A-Za-z0-9]*$/);
    }
  });
});

describe('writeCrds', () => {
  it('writes one file per resource and removes CRDs of resources that no longer exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rebound-crds-'));
    await writeFile(join(dir, 'rebound.dev_widgets.yaml'), 'stale');
    await writeFile(join(dir, 'kustomization.yaml'), 'kept');
    expect(await writeCrds(dir)).toEqual([
      'rebound.dev_projects.yaml',
      'rebound.dev_remediations.yaml',
      'rebound.dev_problemevents.yaml',
      'rebound.dev_approvals.yaml',
      'rebound.dev_notifications.yaml',
    ]);
    expect((await readdir(dir)).sort()).toEqual([
      'kustomization.yaml',
      'rebound.dev_approvals.yaml',
      'rebound.dev_notifications.yaml',
      'rebound.dev_problemevents.yaml',
      'rebound.dev_projects.yaml',
      'rebound.dev_remediations.yaml',
    ]);
    await rm(dir, { recursive: true });
  });
});
