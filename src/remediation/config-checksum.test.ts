import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { refreshConfigChecksums } from './config-checksum.ts';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

const configMap = (promotion: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: carts-feature-flags\ndata:\n  EnablePromotion: "${promotion}"\n`;

/** A file as `helm template` writes it, the Deployment holding `annotations` in its pod template. */
function rendered(promotion: string, annotations: string[]): string {
  return [
    '---',
    '# Source: carts/templates/configmap.yaml',
    configMap(promotion),
    '---',
    '# Source: carts/templates/deployment.yaml',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'spec:',
    '  template:',
    '    metadata:',
    '      annotations:',
    ...annotations.map((a) => `        ${a}`),
    '',
  ].join('\n');
}

describe('refreshConfigChecksums', () => {
  it("rewrites the annotations that held the ConfigMap's old hash, and only those", () => {
    const other = sha('something else');
    const before = rendered('true', [
      `checksum/feature-flags: ${sha(configMap('true'))}`,
      `"checksum/quoted": '${sha(configMap('true'))}'  # kept`,
      `checksum/secret: ${other}`,
      `note: ${sha(configMap('true'))}`,
    ]);
    const after = before.replace('EnablePromotion: "true"', 'EnablePromotion: "false"');
    const result = refreshConfigChecksums(before, after);
    expect(result.updated).toEqual(['checksum/feature-flags', 'checksum/quoted']);
    expect(result.text).toBe(
      rendered('false', [
        `checksum/feature-flags: ${sha(configMap('false'))}`,
        `"checksum/quoted": '${sha(configMap('false'))}'  # kept`,
        `checksum/secret: ${other}`,
        `note: ${sha(configMap('true'))}`,
      ]),
    );
  });

  it('leaves a file alone when no ConfigMap changed, or it is one document, or documents differ', () => {
    const before = rendered('true', [`checksum/feature-flags: ${sha(configMap('true'))}`]);
    const scaled = before.replace('kind: Deployment', 'kind: Deployment\nreplicas: 2');
    expect(refreshConfigChecksums(before, scaled)).toEqual({ text: scaled, updated: [] });
    const values = `featureFlags:\n  EnablePromotion: true\nchecksum/x: ${sha('a')}\n`;
    expect(refreshConfigChecksums(values, values.replace('true', 'false')).updated).toEqual([]);
    const fewer = before.replace('EnablePromotion: "true"', 'EnablePromotion: "false"').replace(/^---\n/, '');
    expect(refreshConfigChecksums(before, fewer).updated).toEqual([]);
  });

  it('hashes a changed Secret the same way', () => {
    const secret = (v: string): string => `apiVersion: v1\nkind: Secret\nstringData:\n  token: ${v}\n`;
    const before = `---\n${secret('a')}---\nkind: Deployment\n  checksum/secret: ${sha(secret('a'))}\n`;
    const after = before.replace('token: a', 'token: b');
    expect(refreshConfigChecksums(before, after).text).toContain(`checksum/secret: ${sha(secret('b'))}`);
  });
});
