import { readFileSync } from 'fs';
import { join } from 'path';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App, TerraformOutput, Testing } from 'cdktf';
import { AirgapStack, KubernetesStateBackend } from '../../lib';
import { errorOf, SynthJson } from '../support/synth';

function stack(id = 'preview-pr-42', app: App = Testing.app()): AirgapStack {
  const s = new AirgapStack(app, id);
  new KubernetesProvider(s, 'kubernetes', {});
  return s;
}

describe('KubernetesStateBackend', () => {
  test('renders the kubernetes backend by names only: no path, no credential; it replaces the local backend', () => {
    const s = stack();
    const backend = new KubernetesStateBackend(s, { labels: { 'airgap-go-constructs.io/branch': 'pr-42' } });
    const json = JSON.parse(Testing.synth(s)) as SynthJson & { terraform: { backend: Record<string, unknown> } };
    expect(json.terraform.backend).toEqual({
      kubernetes: {
        secret_suffix: 'preview-pr-42',
        namespace: 'airgap-state',
        labels: { 'airgap-go-constructs.io/branch': 'pr-42', 'airgap-go-constructs.io/stack': 'preview-pr-42' },
      },
    });
    const text = Testing.synth(s);
    expect(text).not.toMatch(/config_path|token|client_key|password|\/tmp\/|\/root\//);
    expect(backend).toMatchObject({ namespace: 'airgap-state', secretSuffix: 'preview-pr-42' });
  });

  test('the default suffix is the stack name as a DNS label; inClusterConfig is written only when set', () => {
    const s = stack('Preview_Feature.X');
    new KubernetesStateBackend(s, { inClusterConfig: true, namespace: 'tf-state' });
    const json = JSON.parse(Testing.synth(s)) as { terraform: { backend: { kubernetes: Record<string, unknown> } } };
    expect(json.terraform.backend.kubernetes).toMatchObject({ secret_suffix: 'preview-feature-x', namespace: 'tf-state', in_cluster_config: true });
  });

  test('a stack reading another\'s outputs reads them from the producer\'s Secret', () => {
    const app = Testing.app();
    const images = stack('images', app);
    new KubernetesStateBackend(images, { secretSuffix: 'images' });
    const ns = new NamespaceV1(images, 'ns', { metadata: { name: 'x' } });
    const preview = stack('preview', app);
    new KubernetesStateBackend(preview, { secretSuffix: 'preview' });
    new TerraformOutput(preview, 'seen', { value: ns.metadata.name });
    app.synth();
    const json = JSON.parse(readFileSync(join(app.outdir, 'stacks', 'preview', 'cdk.tf.json'), 'utf8')) as { data: { terraform_remote_state: Record<string, { backend: string; config: Record<string, unknown> }> } };
    expect(Object.values(json.data.terraform_remote_state)).toEqual([
      expect.objectContaining({ backend: 'kubernetes', config: { secret_suffix: 'images', namespace: 'airgap-state' } }),
    ]);
  });

  test.each([
    [{ secretSuffix: 'Preview_PR' }, 'prop "secretSuffix" is "Preview_PR"'],
    [{ secretSuffix: 'x'.repeat(64) }, 'prop "secretSuffix" is'],
    [{ namespace: 'Airgap State' }, 'prop "namespace" is "Airgap State"'],
    [{ labels: { 'bad key!': 'x' } }, 'prop "labels key" is "bad key!"'],
    [{ labels: { ok: 'bad value!' } }, 'prop "labels["ok"]" is "bad value!"'],
  ])('bad props are refused naming the construct, prop and fix %#', (props, expected) => {
    const s = stack();
    const message = errorOf(() => new KubernetesStateBackend(s, props));
    expect(message).toContain('(KubernetesStateBackend): ');
    expect(message).toContain(expected);
  });
});
