import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App, HttpBackend, Testing, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { AirgapStack } from '../lib';
import { errorOf } from './support/synth';

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

