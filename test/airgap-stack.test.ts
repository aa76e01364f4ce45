import { readFileSync } from 'fs';
import { join } from 'path';
import { App, HttpBackend, Testing, TerraformStack } from 'cdktf';
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
      'abs (AirgapStack): prop "localStatePath" is "/var/lib/state.tfstate", which is not a relative path. Use a path relative to the stack directory, such as "terraform.tfstate", or configure a remote backend.',
    );
    expect(app.node.tryFindChild('abs')).toBeUndefined();
  });

  test('a backend of the user\'s own wins, and no second backend is added', () => {
    const stack = new AirgapStack(Testing.app(), 's');
    new HttpBackend(stack, { address: 'https://state.internal/preview' });
    expect(terraformBlock(stack).backend).toEqual({ http: { address: 'https://state.internal/preview' } });
  });
});
