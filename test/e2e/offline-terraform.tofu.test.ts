/**
 * Engine: OpenTofu with the real kubernetes and docker providers, built from Go
 * modules by scripts/toolchain.sh and installed from a filesystem mirror, run
 * inside a network namespace with only loopback.
 */
import { mkdtempSync, rmSync, symlinkSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App, Testing } from 'cdktf';
import { ImageStack, PreviewStack } from '../../examples/preview-app';
import { AirgapStack, PreviewEnvironment } from '../../lib';
import { engineUp, REGISTRY } from '../support/engine';
import { canIsolateNetwork, tofu, toolchain } from '../support/toolchain';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';

jest.setTimeout(30 * 60 * 1000);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The example app as `npm run synth` builds it, pinned to the providers the mirror holds, with the mirror beside it. */
function synthExampleApp(): string {
  const t = toolchain();
  const info = engineUp();
  const outdir = mkdtempSync(join(tmpdir(), 'agc-tofu-'));
  dirs.push(outdir);
  const app = new App({ outdir });
  const providerVersions = { kubernetes: t.versions.kubernetes, docker: t.versions.docker };
  const images = new ImageStack(app, 'images', { registry: REGISTRY, builderDigest: info.builderDigest, runtimeDigest: info.runtimeDigest, providerVersions });
  new PreviewStack(app, 'preview', { branch: 'feature/ABC_123', image: images.hello.imageRef, createdAt: '2026-11-21T10:00:00Z', providerVersions });
  app.synth();
  // Where the kit's CLI config expects the carried mirror: beside stacks/.
  symlinkSync(t.mirror, join(outdir, 'providers'));
  return outdir;
}

beforeAll(() => {
  toolchain();
}, 30 * 60 * 1000);

describe('every synthesized stack initialises from the mirror and validates, offline', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = synthExampleApp();
  });

  test('the network namespace is really loopback-only', () => {
    expect(canIsolateNetwork()).toBe(true);
    const r = spawnSync('unshare', ['-n', '--', 'ip', '-o', 'link'], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n').map((l) => l.split(':')[1].trim())).toEqual(['lo']);
  });

  test.each(['images', 'preview'])('%s: verify.sh, then tofu init with the kit\'s own CLI config, then tofu validate', (stack) => {
    const dir = join(outdir, 'stacks', stack);
    // The pin, as recorded on the synth side before anything could touch the folder.
    const pin = createHash('sha256').update(readFileSync(join(dir, 'SHA256SUMS'))).digest('hex');
    const verify = spawnSync('sh', ['offline/verify.sh', pin], { cwd: dir, encoding: 'utf8' });
    expect(verify.status).toBe(0);
    const kitConfig = join(dir, 'offline', 'tofurc');
    const init = tofu(dir, ['init', '-input=false'], { TF_CLI_CONFIG_FILE: kitConfig });
    expect(init.out).toContain('OpenTofu has been successfully initialized!');
    expect(init.status).toBe(0);
    const validate = tofu(dir, ['validate'], { TF_CLI_CONFIG_FILE: kitConfig });
    expect(validate.out).toContain('Success! The configuration is valid.');
    expect(validate.status).toBe(0);
    // After init, Terraform's own files are refused unless verify.sh is told the folder is initialised.
    expect(spawnSync('sh', ['offline/verify.sh', pin], { cwd: dir, encoding: 'utf8' }).status).toBe(1);
    expect(spawnSync('sh', ['offline/verify.sh', pin, '--initialised'], { cwd: dir, encoding: 'utf8' }).status).toBe(0);
  });

  test('the bindings\' own pins are refused by a mirror that does not hold them, offline and at once', () => {
    const t = toolchain();
    const app = Testing.app();
    const stack = new AirgapStack(app, 'pinned');
    new KubernetesProvider(stack, 'kubernetes', {});
    new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: '2026-11-21T10:00:00Z' });
    const dir = join(Testing.fullSynth(stack), 'stacks', 'pinned');
    dirs.push(dir);
    const init = tofu(dir, ['init', '-input=false']);
    expect(init.status).not.toBe(0);
    expect(init.out).toMatch(/no available releases match|does not match any|could not retrieve|not available/i);
    expect(t.versions.kubernetes).not.toBe('2.38.0');
  });
});

describe('cdktf\'s toBeValidTerraform with TERRAFORM_BINARY_NAME=tofu', () => {
  test('a preview environment stack is valid Terraform', () => {
    const t = toolchain();
    const app = Testing.app();
    const stack = new AirgapStack(app, 'matcher', { providerVersions: { kubernetes: t.versions.kubernetes } });
    new KubernetesProvider(stack, 'kubernetes', {});
    const env = new PreviewEnvironment(stack, 'env', { branch: 'feature/x', createdAt: '2026-11-21T10:00:00Z', ingress: { baseDomain: 'p.internal' } });
    env.addService('hello', { image: `${REGISTRY}/examples/hello-go@sha256:${'0'.repeat(64)}` }, { ingressPath: '/' });
    const saved = { bin: process.env.TERRAFORM_BINARY_NAME, cfg: process.env.TF_CLI_CONFIG_FILE };
    process.env.TERRAFORM_BINARY_NAME = t.tofu;
    process.env.TF_CLI_CONFIG_FILE = t.cliConfig;
    try {
      // fullSynth applies the provider pins too (AirgapStack prepares itself when Testing skips the app's prepare step).
      expect(Testing.fullSynth(stack)).toBeValidTerraform();
    } finally {
      process.env.TERRAFORM_BINARY_NAME = saved.bin;
      process.env.TF_CLI_CONFIG_FILE = saved.cfg;
    }
  });
});
