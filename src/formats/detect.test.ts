import { describe, expect, it } from 'vitest';
import { checkKeptnFile, detectKeptnFile, keptnFileKindOfDocument, keptnFileKindOfPath } from './detect.ts';
import { formatDiagnostic } from './yaml.ts';

describe('keptnFileKindOfPath', () => {
  it.each([
    ['shipyard.yaml', 'shipyard'],
    ['carts/remediation.yaml', 'remediation'],
    ['carts/slo.yml', 'slo'],
    ['carts/prometheus/sli.yaml', 'sli'],
    ['carts/values.yaml', undefined],
    ['carts/remediation.yaml.orig', undefined],
    ['Shipyard.yaml', undefined],
  ])('%s is %s', (path, kind) => {
    expect(keptnFileKindOfPath(path)).toBe(kind);
  });
});

describe('keptnFileKindOfDocument', () => {
  it.each([
    [{ apiVersion: 'spec.keptn.sh/0.2.2', kind: 'Shipyard' }, 'shipyard'],
    [{ apiVersion: 'spec.keptn.sh/0.1.4', kind: 'Remediation' }, 'remediation'],
    [{ remediations: [] }, 'remediation'],
    [{ stages: [] }, 'shipyard'],
    [{ objectives: [] }, 'slo'],
    [{ indicators: {} }, 'sli'],
    [{ replicaCount: 1 }, undefined],
    [['a'], undefined],
    [{ apiVersion: 'rebound.dev/v1alpha1', kind: 'Remediation', spec: {} }, undefined],
  ])('%j is %s', (doc, kind) => {
    expect(keptnFileKindOfDocument(doc)).toBe(kind);
  });
});

describe('detectKeptnFile', () => {
  it('prefers the file name and falls back to the content', () => {
    expect(detectKeptnFile('x/slo.yaml', 'stages: []\n')).toBe('slo');
    expect(detectKeptnFile('remediation_feature_toggle.yaml', 'remediations: []\n')).toBe('remediation');
    expect(detectKeptnFile('broken.yaml', 'a: [\n')).toBeUndefined();
  });
});

describe('checkKeptnFile', () => {
  it('returns the errors of the matching parser', () => {
    const check = checkKeptnFile('sli', 'sli.yaml', 'spec_version: "1.0"\n');
    expect(check.errors.map(formatDiagnostic)).toEqual(['sli.yaml:1:1: missing required field: indicators']);
    expect(checkKeptnFile('shipyard', 'shipyard.yaml', 'stages:\n  - name: dev\n')).toEqual({
      errors: [],
      warnings: [],
    });
  });
});
