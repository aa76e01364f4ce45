import { spawnSync } from 'child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App } from 'cdktf';
import { AirgapStack, GoService, cliConfig, sha256sums } from '../lib';

const D = `sha256:${'a'.repeat(64)}`;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function synthKit() {
  const outdir = mkdtempSync(join(tmpdir(), 'agc-kit-'));
  dirs.push(outdir);
  const app = new App({ outdir });
  const stack = new AirgapStack(app, 'svc');
  new KubernetesProvider(stack, 'kubernetes', {});
  new DockerProvider(stack, 'docker', {});
  new GoService(stack, 'api', { image: `registry.internal/team/api@${D}` });
  stack.addArtifact({ writeTo: (dir) => writeFileSync(join(dir, 'payload.bin'), 'payload') });
  app.synth();
  return { stack, dir: join(outdir, 'stacks', 'svc'), outdir };
}

function verify(dir: string) {
  const r = spawnSync('sh', [join(dir, 'offline', 'verify.sh')], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('offline apply kit', () => {
  test('lists providers and images, and configures both CLIs for a filesystem mirror only', () => {
    const { dir, stack, outdir } = synthKit();
    expect(readFileSync(join(dir, 'offline', 'providers.txt'), 'utf8').split('\n').filter((l) => !l.startsWith('#') && l)).toEqual(['hashicorp/kubernetes 2.37.1', 'kreuzwerker/docker 3.6.0']);
    expect(readFileSync(join(dir, 'offline', 'images.txt'), 'utf8')).toMatch(new RegExp(`^kubernetes_deployment_v1\\.api_Deployment_[0-9A-F]{8} spec\\.template\\.spec\\.container\\.0\\.image registry\\.internal/team/api@${D}$`, 'm'));
    for (const [file, host] of [['tofurc', 'registry.opentofu.org'], ['terraformrc', 'registry.terraform.io']]) {
      const text = readFileSync(join(dir, 'offline', file), 'utf8');
      expect(text).toBe(cliConfig(host, file === 'tofurc' ? 'OpenTofu' : 'Terraform'));
      expect(text).toContain('filesystem_mirror');
      expect(text).toContain('disable_checkpoint = true');
      expect(text).not.toMatch(/^\s*direct\s*\{/m);
    }
    expect(stack.offlineKit?.providers.map((p) => p.source)).toEqual(['hashicorp/kubernetes', 'kreuzwerker/docker']);
    for (const f of ['offline/tofurc', 'offline/providers.txt', 'offline/images.txt', 'SHA256SUMS', 'cdk.tf.json']) {
      expect(readFileSync(join(dir, f), 'utf8')).not.toContain(outdir);
    }
  });

  test('SHA256SUMS covers every file, including other artifacts, and verify.sh accepts the untouched tree', () => {
    const { dir, stack } = synthKit();
    const listed = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.slice(66));
    expect(listed).toEqual(['cdk.tf.json', 'offline/images.txt', 'offline/providers.txt', 'offline/terraformrc', 'offline/tofurc', 'offline/verify.sh', 'payload.bin']);
    expect(readFileSync(join(dir, 'SHA256SUMS'), 'utf8')).toBe(sha256sums(dir));
    const r = verify(dir);
    expect(r.status).toBe(0);
    expect(r.out).toContain(`verify: OK, 7 files match SHA256SUMS (sha256 of SHA256SUMS: ${stack.offlineKit?.sumsDigest})`);
  });

  test('verify.sh fails on one flipped byte, naming the file', () => {
    const { dir } = synthKit();
    const file = join(dir, 'payload.bin');
    const bytes = readFileSync(file);
    bytes[0] ^= 0x01;
    writeFileSync(file, bytes);
    const r = verify(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('payload.bin: FAILED');
  });

  test('verify.sh refuses a file that rides along unlisted, but ignores Terraform\'s own files', () => {
    const { dir } = synthKit();
    writeFileSync(join(dir, 'terraform.svc.tfstate'), '{}');
    writeFileSync(join(dir, '.terraform.lock.hcl'), '');
    expect(verify(dir).status).toBe(0);
    writeFileSync(join(dir, 'backdoor.tf'), 'resource "null" "x" {}');
    const r = verify(dir);
    expect(r.status).toBe(1);
    expect(r.out).toContain('files not in SHA256SUMS:\nbackdoor.tf');
  });

  test('a tampered SHA256SUMS shows in its own digest', () => {
    const { dir, stack } = synthKit();
    appendFileSync(join(dir, 'SHA256SUMS'), '');
    expect(verify(dir).out).toContain(stack.offlineKit?.sumsDigest as string);
    writeFileSync(join(dir, 'payload.bin'), 'evil');
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?=  payload\.bin$)/m, spawnSync('sha256sum', [join(dir, 'payload.bin')], { encoding: 'utf8' }).stdout.slice(0, 64));
    writeFileSync(join(dir, 'SHA256SUMS'), sums);
    const r = verify(dir);
    expect(r.status).toBe(0);
    // The files check out against the swapped list, so only the recorded digest catches it.
    expect(r.out).not.toContain(stack.offlineKit?.sumsDigest as string);
  });

  test('the kit can be turned off', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'agc-kit-'));
    dirs.push(outdir);
    const app = new App({ outdir });
    new AirgapStack(app, 'bare', { offlineKit: false });
    app.synth();
    expect(spawnSync('ls', [join(outdir, 'stacks', 'bare')], { encoding: 'utf8' }).stdout.trim()).toBe('cdk.tf.json');
  });
});
