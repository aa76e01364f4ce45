import { spawnSync } from 'child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App } from 'cdktf';
import { HELLO_GO_DIR } from '../../examples/preview-app';
import { AirgapPolicy, AirgapStack, BaseImage, GoImage, GoService, RegistryMirror } from '../../lib';
import { cliConfig, sha256sums } from '../../lib/private/offline-kit';
import { tmp } from '../support/scratch';
import { errorOf } from '../support/synth';

const D = `sha256:${'a'.repeat(64)}`;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function synthKit() {
  const outdir = tmp('agc-kit-');
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

/** verify.sh with the pin recorded at synth (`offlineKit.sumsDigest`). */
function verify(dir: string, pin: string, ...flags: string[]) {
  const r = spawnSync('sh', [join(dir, 'offline', 'verify.sh'), pin, ...flags], { encoding: 'utf8' });
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
    expect(listed).toEqual(['cdk.tf.json', 'offline/images.json', 'offline/images.txt', 'offline/policy-report.json', 'offline/providers.json', 'offline/providers.txt', 'offline/terraformrc', 'offline/tofurc', 'offline/verify.sh', 'payload.bin']);
    expect(readFileSync(join(dir, 'SHA256SUMS'), 'utf8')).toBe(sha256sums(dir));
    const r = verify(dir, stack.offlineKit?.sumsDigest as string);
    expect(r.status).toBe(0);
    expect(r.out).toContain(`verify: OK, 10 files match SHA256SUMS, whose sha256 is the pinned ${stack.offlineKit?.sumsDigest}`);
  });

  test('verify.sh fails on one flipped byte, naming the file', () => {
    const { dir, stack } = synthKit();
    const file = join(dir, 'payload.bin');
    const bytes = readFileSync(file);
    bytes[0] ^= 0x01;
    writeFileSync(file, bytes);
    const r = verify(dir, stack.offlineKit?.sumsDigest as string);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('payload.bin: FAILED');
  });

  test('verify.sh refuses a file that rides along unlisted, and Terraform\'s own files unless the folder is initialised', () => {
    const { dir, stack } = synthKit();
    const pin = stack.offlineKit?.sumsDigest as string;
    writeFileSync(join(dir, 'terraform.svc.tfstate'), '{}');
    writeFileSync(join(dir, '.terraform.lock.hcl'), '');
    expect(verify(dir, pin).out).toContain("Terraform's own files, which a freshly carried stack does not have (pass --initialised after tofu init): .terraform.lock.hcl terraform.svc.tfstate");
    expect(verify(dir, pin, '--initialised').status).toBe(0);
    writeFileSync(join(dir, 'backdoor.tf'), 'resource "null" "x" {}');
    const r = verify(dir, pin, '--initialised');
    expect(r.status).toBe(1);
    expect(r.out).toContain('verify: FAILED: files not in SHA256SUMS: backdoor.tf');
  });

  test('a regenerated SHA256SUMS no longer matches the pin', () => {
    const { dir, stack } = synthKit();
    const pin = stack.offlineKit?.sumsDigest as string;
    writeFileSync(join(dir, 'payload.bin'), 'evil');
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?=  payload\.bin$)/m, spawnSync('sha256sum', [join(dir, 'payload.bin')], { encoding: 'utf8' }).stdout.slice(0, 64));
    writeFileSync(join(dir, 'SHA256SUMS'), sums);
    const r = verify(dir, pin);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`not the pinned ${pin}: this is not the stack that was recorded`);
  });

  test('synth refuses a symlink in the stack directory, naming it', () => {
    const outdir = tmp('agc-kit-');
    dirs.push(outdir);
    const app = new App({ outdir });
    const stack = new AirgapStack(app, 'linked');
    stack.addArtifact({ writeTo: (d) => symlinkSync('/etc/passwd', join(d, 'passwd')) });
    expect(errorOf(() => app.synth())).toBe(
      'linked (offline kit): prop "stack directory" is "passwd", which is a symlink, which SHA256SUMS cannot vouch for and verify.sh refuses. Write regular files only into the stack directory (copy what a link points to).',
    );
  });

  test('the kit can be turned off', () => {
    const outdir = tmp('agc-kit-');
    dirs.push(outdir);
    const app = new App({ outdir });
    new AirgapStack(app, 'bare', { offlineKit: false });
    app.synth();
    expect(spawnSync('ls', [join(outdir, 'stacks', 'bare')], { encoding: 'utf8' }).stdout.trim()).toBe('cdk.tf.json');
  });
});

describe('offline/images.json: everything the far side needs', () => {
  test('lists the GoImage bases with their public sources, what the stack builds, and rewritten images with their sources', () => {
    const outdir = tmp('agc-kit-');
    dirs.push(outdir);
    const app = new App({ outdir });
    const registry = 'registry.internal:5000';
    const mirror = RegistryMirror.of({ 'docker.io/library': `${registry}/library`, 'gcr.io/distroless': `${registry}/distroless` });
    const images = new AirgapStack(app, 'images', { platforms: ['linux/amd64', 'linux/arm64'] });
    new DockerProvider(images, 'docker', {});
    const hello = new GoImage(images, 'hello', { moduleDir: HELLO_GO_DIR, registry, repository: 'team/hello', mirror });
    const run = new AirgapStack(app, 'run');
    new KubernetesProvider(run, 'kubernetes', {});
    new GoService(run, 'web', { image: `docker.io/library/nginx:1.27@${D}` });
    new GoService(run, 'hello', { image: hello.imageRef });
    AirgapPolicy.apply(run, { mirror, allowedRegistries: [registry] });
    app.synth();
    const read = (stack: string) => JSON.parse(readFileSync(join(outdir, 'stacks', stack, 'offline', 'images.json'), 'utf8')) as { formatVersion: number; platforms: string[]; images: Array<Record<string, unknown>> };

    const built = read('images');
    expect(built.formatVersion).toBe(1);
    expect(built.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(built.images).toEqual([
      {
        target: `${registry}/distroless/static-debian13:nonroot@${BaseImage.DISTROLESS_STATIC_DIGEST}`,
        source: `gcr.io/distroless/static-debian13:nonroot@${BaseImage.DISTROLESS_STATIC_DIGEST}`,
        digest: BaseImage.DISTROLESS_STATIC_DIGEST,
        index: true,
        use: 'base',
        neededBy: ['images/hello'],
      },
      {
        target: `${registry}/library/golang:1.26-bookworm@${BaseImage.GOLANG_DIGEST}`,
        source: `docker.io/library/golang:1.26-bookworm@${BaseImage.GOLANG_DIGEST}`,
        digest: BaseImage.GOLANG_DIGEST,
        index: true,
        use: 'base',
        neededBy: ['images/hello'],
      },
      { target: `${registry}/team/hello:${hello.tag}`, use: 'build', neededBy: ['images/hello/Image'] },
    ]);

    const ran = read('run');
    // None named: every platform of every index is carried.
    expect(ran.platforms).toEqual([]);
    expect(ran.images).toEqual([
      { target: `${registry}/library/nginx:1.27@${D}`, source: `docker.io/library/nginx:1.27@${D}`, digest: D, use: 'run', neededBy: ['run/web/Deployment'] },
      // Known after apply, from the image stack: listed, with no digest, and not carried.
      { target: expect.stringMatching(/^registry\.internal:5000\/team\/hello@\$\{data\.terraform_remote_state\./), use: 'run', neededBy: ['run/hello/Deployment'] },
    ]);
  });

  test('platforms are validated, and also come from the context', () => {
    const app = new App({ outdir: tmp('agc-kit-'), context: { 'airgap-go-constructs:platforms': 'linux/arm64, linux/amd64', 'airgap-go-constructs:providerPlatforms': ['linux_arm64'] } });
    const stack = new AirgapStack(app, 'ctx');
    expect(stack.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(stack.providerPlatforms).toEqual(['linux_arm64']);
    expect(errorOf(() => new AirgapStack(new App(), 'bad', { platforms: ['amd64'], providerPlatforms: ['linux/amd64'] }))).toBe(
      [
        'bad (AirgapStack): prop "platforms[0]" is "amd64", which is not os/arch[/variant]. Name node platforms as Go does, such as "linux/amd64" or "linux/arm64".',
        'bad (AirgapStack): prop "providerPlatforms[0]" is "linux/amd64", which is not os_arch. Name provider platforms as tofu does, such as "linux_amd64" or "darwin_arm64".',
      ].join('\n'),
    );
  });
});

describe('.terraform.lock.hcl from a provider mirror', () => {
  /** A mirror with kubernetes unpacked for linux_amd64 and as a zip for linux_arm64. */
  function fakeMirror(): string {
    const mirror = tmp('agc-mirror-');
    dirs.push(mirror);
    const unpacked = join(mirror, 'registry.opentofu.org/hashicorp/kubernetes/3.2.1/linux_amd64');
    mkdirSync(unpacked, { recursive: true });
    writeFileSync(join(unpacked, 'terraform-provider-kubernetes_v3.2.1'), 'amd64 binary');
    const zipDir = join(mirror, 'registry.opentofu.org/hashicorp/kubernetes');
    spawnSync('python3', ['-c', `import zipfile; z = zipfile.ZipFile("${zipDir}/terraform-provider-kubernetes_3.2.1_linux_arm64.zip", "w", zipfile.ZIP_DEFLATED); z.writestr("terraform-provider-kubernetes_v3.2.1", "arm64 binary " * 100); z.writestr("LICENSE", "license"); z.close()`]);
    return mirror;
  }
  /** h1 computed independently of our code: coreutils sha256sum lines, hashed again, base64. */
  function h1ByShell(dir: string, names: string[]): string {
    return 'h1:' + spawnSync('sh', ['-c', `cd "${dir}" && sha256sum ${names.join(' ')} | openssl dgst -sha256 -binary | base64`], { encoding: 'utf8' }).stdout.trim();
  }

  test('has the h1 hash of each provider platform, for tofu and for terraform, in the CLI\'s own format', () => {
    const mirror = fakeMirror();
    const outdir = tmp('agc-kit-');
    dirs.push(outdir);
    const app = new App({ outdir });
    const stack = new AirgapStack(app, 'locked', { providerVersions: { kubernetes: '3.2.1' }, providerMirror: mirror, providerPlatforms: ['linux_amd64', 'linux_arm64'] });
    new KubernetesProvider(stack, 'kubernetes', {});
    app.synth();
    const dir = join(outdir, 'stacks', 'locked');
    const amd64 = h1ByShell(join(mirror, 'registry.opentofu.org/hashicorp/kubernetes/3.2.1/linux_amd64'), ['terraform-provider-kubernetes_v3.2.1']);
    const unzipped = tmp('agc-unzip-');
    dirs.push(unzipped);
    spawnSync('python3', ['-c', `import zipfile; zipfile.ZipFile("${mirror}/registry.opentofu.org/hashicorp/kubernetes/terraform-provider-kubernetes_3.2.1_linux_arm64.zip").extractall("${unzipped}")`]);
    const arm64 = h1ByShell(unzipped, ['LICENSE', 'terraform-provider-kubernetes_v3.2.1']);
    const hashes = [amd64, arm64].sort();
    const expected = (host: string, cli: string) =>
      `# This file is maintained automatically by "${cli} init".\n# Manual edits may be lost in future updates.\n\nprovider "${host}/hashicorp/kubernetes" {\n  version     = "3.2.1"\n  constraints = "3.2.1"\n  hashes = [\n    "${hashes[0]}",\n    "${hashes[1]}",\n  ]\n}\n`;
    expect(readFileSync(join(dir, '.terraform.lock.hcl'), 'utf8')).toBe(expected('registry.opentofu.org', 'tofu'));
    expect(readFileSync(join(dir, 'offline/terraform.lock.hcl'), 'utf8')).toBe(expected('registry.terraform.io', 'terraform'));
    expect(readFileSync(join(dir, 'SHA256SUMS'), 'utf8')).toMatch(/  \.terraform\.lock\.hcl\n/);
    expect(stack.offlineKit?.lockFile).toBe(true);
  });

  test('a damaged provider package is an AirgapError naming the package, not a bare Error', () => {
    const mirror = fakeMirror();
    const zip = join(mirror, 'registry.opentofu.org/hashicorp/kubernetes/terraform-provider-kubernetes_3.2.1_linux_arm64.zip');
    writeFileSync(zip, 'not a zip at all');
    const app = new App({ outdir: tmp('agc-kit-') });
    const stack = new AirgapStack(app, 'broken', { providerVersions: { kubernetes: '3.2.1' }, providerMirror: mirror, providerPlatforms: ['linux_arm64'] });
    new KubernetesProvider(stack, 'kubernetes', {});
    expect(errorOf(() => app.synth())).toBe(
      `broken (AirgapStack): prop "providerMirror" is ${JSON.stringify(zip)}, which holds a hashicorp/kubernetes 3.2.1 package for linux_arm64 that cannot be hashed: not a zip archive (no end of central directory record). Mirror it again on the connected side: tofu providers mirror -platform=linux_arm64 ${mirror}.`,
    );
  });

  test('a provider missing from the mirror, or a mirror that is not there, is an error naming it', () => {
    const mirror = fakeMirror();
    const app = new App({ outdir: tmp('agc-kit-') });
    const stack = new AirgapStack(app, 'gap', { providerVersions: { kubernetes: '3.2.1' }, providerMirror: mirror, providerPlatforms: ['darwin_arm64'] });
    new KubernetesProvider(stack, 'kubernetes', {});
    expect(errorOf(() => app.synth())).toBe(
      `gap (AirgapStack): prop "providerMirror" is ${JSON.stringify(mirror)}, which holds no hashicorp/kubernetes 3.2.1 for darwin_arm64 (neither unpacked nor as a zip, under registry.opentofu.org or registry.terraform.io). Add it on the connected side: tofu providers mirror -platform=darwin_arm64 ${mirror}; or drop darwin_arm64 from providerPlatforms.`,
    );
    expect(errorOf(() => new AirgapStack(new App(), 'none', { providerMirror: '/nonexistent/mirror' }))).toBe(
      'none (AirgapStack): prop "providerMirror" is "/nonexistent/mirror", which is not a folder on this machine. Point it at the folder `tofu providers mirror DIR` wrote, or leave it out (no lock file is written then).',
    );
  });
});
