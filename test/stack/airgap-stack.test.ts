import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { AnnotationMetadataEntryType, App, HttpBackend, Testing, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { ImageStack, PreviewStack } from '../../examples/preview-app';
import { AirgapPolicy, AirgapStack, GoService, RegistryMirror } from '../../lib';
import { errorOf } from '../support/synth';

/** The stack's cdk.tf.json as `app.synth()` writes it; the implicit backend is added only then. */
function written(stack: TerraformStack): string {
  const app = stack.node.root as App;
  app.synth();
  return readFileSync(join(app.outdir, 'stacks', stack.node.id, 'cdk.tf.json'), 'utf8');
}

function terraformBlock(stack: TerraformStack): Record<string, unknown> {
  return (JSON.parse(written(stack)) as { terraform: Record<string, unknown> }).terraform;
}

describe('AirgapStack', () => {
  test('the default local backend has a relative state path, not the synth machine\'s cwd', () => {
    const stack = new AirgapStack(Testing.app(), 'preview');
    const text = written(stack);
    expect(JSON.parse(text).terraform.backend).toEqual({ local: { path: 'terraform.preview.tfstate' } });
    expect(text).not.toContain(process.cwd());
  });

  test('plain cdktf would leak the cwd, which is what this stack exists to prevent', () => {
    const stack = new TerraformStack(Testing.app(), 'plain');
    expect(terraformBlock(stack).backend).toEqual({ local: { path: `${process.cwd()}/terraform.plain.tfstate` } });
  });

  test('the state path can be set, relative only', () => {
    const stack = new AirgapStack(Testing.app(), 's', { localStatePath: 'state/s.tfstate' });
    expect(terraformBlock(stack).backend).toEqual({ local: { path: 'state/s.tfstate' } });
    const app = Testing.app();
    expect(errorOf(() => new AirgapStack(app, 'abs', { localStatePath: '/var/lib/state.tfstate' }))).toBe(
      'abs (AirgapStack): prop "localStatePath" is "/var/lib/state.tfstate", which is not a relative path inside the stack directory. Use a path relative to the stack directory, such as "terraform.tfstate", or configure a remote backend.',
    );
    expect(app.node.tryFindChild('abs')).toBeUndefined();
  });

  test('a backend of the user\'s own wins, and no second backend is added', () => {
    const stack = new AirgapStack(Testing.app(), 's');
    new HttpBackend(stack, { address: 'https://state.internal/preview' });
    expect(terraformBlock(stack).backend).toEqual({ http: { address: 'https://state.internal/preview' } });
  });

  test('a state path that climbs out of the stack directory is refused', () => {
    expect(errorOf(() => new AirgapStack(Testing.app(), 'up', { localStatePath: '../shared.tfstate' }))).toContain('which is not a relative path inside the stack directory');
  });

  test('artifacts are written beside cdk.tf.json at synth', () => {
    const app = Testing.app();
    const stack = new AirgapStack(app, 'files');
    new TerraformVariable(stack, 'v', { type: 'string' });
    stack.addArtifact({
      writeTo: (dir) => {
        mkdirSync(join(dir, 'extra'), { recursive: true });
        writeFileSync(join(dir, 'extra', 'note.txt'), 'hello');
      },
    });
    app.synth();
    const dir = join(app.outdir, 'stacks', 'files');
    expect(existsSync(join(dir, 'cdk.tf.json'))).toBe(true);
    expect(readFileSync(join(dir, 'extra', 'note.txt'), 'utf8')).toBe('hello');
  });

  test('AirgapStack.enclosing finds the stack, and names the construct when there is none', () => {
    const app = Testing.app();
    const stack = new AirgapStack(app, 's');
    expect(AirgapStack.enclosing(new Construct(stack, 'c'), 'Thing')).toBe(stack);
    const plain = new TerraformStack(app, 'plain');
    expect(errorOf(() => AirgapStack.enclosing(new Construct(plain, 'c'), 'Thing'))).toBe(
      'plain/c (Thing): prop "scope" is "plain", which is a plain TerraformStack, but this construct writes files beside the Terraform. Create the stack with `new AirgapStack(app, id)` instead of `new TerraformStack(app, id)`.',
    );
  });

  test('cross-stack references read the producer\'s state by a path relative to the consumer\'s directory', () => {
    const app = Testing.app();
    const producer = new AirgapStack(app, 'producer');
    const value = new TerraformVariable(producer, 'v', { type: 'string' });
    const consumer = new AirgapStack(app, 'consumer');
    new TerraformOutput(consumer, 'copy', { value: value.stringValue });
    app.synth();
    const json = JSON.parse(readFileSync(join(app.outdir, 'stacks', 'consumer', 'cdk.tf.json'), 'utf8')) as { data: { terraform_remote_state: Record<string, { config: unknown }> } };
    expect(Object.values(json.data.terraform_remote_state).map((r) => r.config)).toEqual([{ path: '../producer/terraform.producer.tfstate' }]);
  });

  test('providerVersions pins the providers the stack has, and only those', () => {
    const app = Testing.app();
    const stack = new AirgapStack(app, 'pins', { providerVersions: { kubernetes: '3.2.1', docker: '4.6.0' } });
    new KubernetesProvider(stack, 'kubernetes', {});
    const required = (JSON.parse(written(stack)) as { terraform: { required_providers: Record<string, unknown> } }).terraform.required_providers;
    expect(required).toEqual({ kubernetes: { source: 'kubernetes', version: '3.2.1' } });
    expect(errorOf(() => new AirgapStack(Testing.app(), 'bad', { providerVersions: { kubernetes: '~> 3.2' } }))).toContain(
      'bad (AirgapStack): prop "providerVersions["kubernetes"]" is "~> 3.2", which is not an exact version (x.y.z)',
    );
  });
});


/** Drops cdktf's "//" metadata, which Testing.synth leaves out. */
function withoutMetadata(text: string): unknown {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v as Record<string, unknown>)) {
      if (key !== '//') out[key] = clean((v as Record<string, unknown>)[key]);
    }
    return out;
  };
  return clean(JSON.parse(text));
}

describe('Testing.synth, Testing.fullSynth and app.synth give the same cdk.tf.json', () => {
  const D = `sha256:${'e'.repeat(64)}`;
  /** A new app with the example's two stacks, the AirgapPolicy aspect and provider pins; every call builds a fresh tree. */
  function build(): { app: App; images: ImageStack; preview: PreviewStack } {
    const app = Testing.app();
    const providerVersions = { kubernetes: '3.2.1', docker: '4.6.0' };
    const images = new ImageStack(app, 'images', { registry: 'registry.internal:5000', builderDigest: D, runtimeDigest: D, providerVersions });
    const preview = new PreviewStack(app, 'preview', { branch: 'feature/same-bytes', image: images.hello.imageRef, createdAt: '2026-11-21T10:00:00Z', providerVersions });
    AirgapPolicy.apply(preview, { mirror: RegistryMirror.of({ 'registry.internal:5000': 'registry.internal:5000' }) });
    return { app, images, preview };
  }
  const fromApp = (app: App, id: string) => readFileSync(join(app.outdir, 'stacks', id, 'cdk.tf.json'), 'utf8');

  test.each(['images', 'preview'] as const)('the %s stack', (id) => {
    const viaApp = build();
    viaApp.app.synth();
    const written = fromApp(viaApp.app, id);
    // The properties that used to differ: the portable backend and the provider pins.
    const terraform = (JSON.parse(written) as { terraform: { backend: unknown; required_providers: Record<string, { version: string }> } }).terraform;
    expect(terraform.backend).toEqual({ local: { path: `terraform.${id}.tfstate` } });
    expect(Object.values(terraform.required_providers).map((p) => p.version)).toEqual([id === 'images' ? '4.6.0' : '3.2.1']);

    const viaTesting = build();
    // Testing.synth sorts keys and formats empty objects its own way, so compare the values.
    expect(JSON.parse(Testing.synth(viaTesting[id]))).toEqual(withoutMetadata(written));
    const viaFull = build();
    expect(readFileSync(join(Testing.fullSynth(viaFull[id]), 'stacks', id, 'cdk.tf.json'), 'utf8')).toBe(written);
  });

  test('synthesizing twice through Testing gives the same bytes', () => {
    const { preview } = build();
    expect(Testing.synth(preview)).toBe(Testing.synth(preview));
  });

  test('an AirgapPolicy violation fails Testing.synth(stack, true) and app.synth alike', () => {
    const make = () => {
      const app = Testing.app();
      const stack = new AirgapStack(app, 'gap');
      new KubernetesProvider(stack, 'kubernetes', {});
      AirgapPolicy.apply(stack, { mirror: RegistryMirror.of({ 'docker.io/library': 'registry.internal/library' }) });
      new GoService(stack, 'api', { image: 'docker.io/library/nginx:1.27' });
      return { app, stack };
    };
    const expected = '[gap/api/Deployment] [AG1-pinned-by-digest] kubernetes_deployment_v1 field spec.template.spec.container.0.image: image "registry.internal/library/nginx:1.27" is not pinned by digest';
    expect(errorOf(() => Testing.synth(make().stack, true))).toContain(expected);
    expect(errorOf(() => make().app.synth())).toContain(expected);
    // Without validations Testing.synth renders, and the error is an annotation, as cdktf does it.
    const { stack } = make();
    expect(() => Testing.synth(stack)).not.toThrow();
    expect(stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === AnnotationMetadataEntryType.ERROR).map((m) => String(m.data))).toEqual([expect.stringContaining('[AG1-pinned-by-digest]')]);
  });
});
