import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App, Testing, TerraformStack } from 'cdktf';
import { AirgapStack, BaseImage, GoImage, GoImageProps, GoService, ModuleSource, RegistryMirror } from '../../lib';
import { tmp } from '../support/scratch';
import { dig, errorOf, onlyResource, resourcesOf, SynthJson } from '../support/synth';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function module(files: Record<string, string> = {}): string {
  const root = tmp('agc-mod-');
  dirs.push(root);
  const all: Record<string, string> = {
    'go.mod': 'module example.com/team/hello\n\ngo 1.26\n\nrequire golang.org/x/text v0.30.0\n',
    'go.sum': 'golang.org/x/text v0.30.0 h1:x\n',
    'main.go': 'package main\n\nfunc main() {}\n',
    'vendor/modules.txt': '# golang.org/x/text v0.30.0\n',
    'cmd/tool/main.go': 'package main\n\nfunc main() {}\n',
    'main_test.go': 'package main\n',
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function imageStack(app: App = Testing.app(), id = 'images') {
  const stack = new AirgapStack(app, id);
  new DockerProvider(stack, 'docker', {});
  return stack;
}

const BASES = {
  builder: BaseImage.golang({ digest: D1 }),
  runtime: BaseImage.distrolessStatic({ digest: D2 }),
  mirror: RegistryMirror.of({ 'docker.io/library': '127.0.0.1:5000/library', 'gcr.io/distroless': '127.0.0.1:5000/distroless' }),
};

function goImage(props: Partial<GoImageProps> = {}, moduleDir = module()) {
  const stack = imageStack();
  const image = new GoImage(stack, 'hello', { moduleDir, registry: '127.0.0.1:5000', repository: 'team/hello-go', ...BASES, ...props });
  return { stack, image, json: JSON.parse(Testing.synth(stack)) as SynthJson };
}

describe('GoImage', () => {
  test('snapshot of the Terraform, with the properties that matter pinned', () => {
    const { stack, image, json } = goImage();
    expect(Testing.synth(stack)).toMatchSnapshot();
    const built = onlyResource(json, 'docker_image');
    expect(built.name).toBe(`127.0.0.1:5000/team/hello-go:${image.tag}`);
    expect(image.tag).toBe(`ctx-${image.contextHash.slice(0, 12)}`);
    expect(built.keep_locally).toBe(false);
    expect(built.triggers).toEqual({ context_sha256: image.contextHash });
    expect(dig(built, 'build')).toEqual({
      context: `\${abspath(path.module)}/${image.contextPath}`,
      dockerfile: 'Dockerfile',
      network_mode: 'none',
      build_args: { SOURCE_DATE_EPOCH: '0' },
      label: { 'org.opencontainers.image.ref.name': image.tag },
      remove: true,
      force_remove: true,
    });
    const pushed = onlyResource(json, 'docker_registry_image');
    expect(pushed.name).toMatch(/^\$\{docker_image\.hello_Image_[0-9A-F]{8}\.name\}$/);
    expect(pushed.triggers).toEqual({ context_sha256: image.contextHash });
    expect(pushed.keep_remotely).toBe(false);
    expect(image.imageRef).toMatch(/^127\.0\.0\.1:5000\/team\/hello-go@\$\{TfToken\[TOKEN\.\d+\]\}$/);
  });

  test('with the docker provider pinned to 4.x the build uses the legacy builder (buildx would pull BuildKit from Docker Hub)', () => {
    const app = Testing.app();
    const stack = new AirgapStack(app, 'images', { providerVersions: { docker: '4.6.0' } });
    new DockerProvider(stack, 'docker', {});
    new GoImage(stack, 'hello', { moduleDir: module(), registry: '127.0.0.1:5000', repository: 'team/hello-go', ...BASES });
    expect(dig(onlyResource(JSON.parse(Testing.synth(stack)) as SynthJson, 'docker_image'), 'build.use_legacy_builder')).toBe(true);
    expect(dig(onlyResource(goImage().json, 'docker_image'), 'build.use_legacy_builder')).toBeUndefined();
  });

  test('the Dockerfile uses the mirrored, pinned bases and vendor mode', () => {
    const { image } = goImage();
    expect(image.dockerfile).toContain(`FROM 127.0.0.1:5000/library/golang:1.26-bookworm@${D1} AS build`);
    expect(image.dockerfile).toContain(`FROM 127.0.0.1:5000/distroless/static-debian13:nonroot@${D2}\n`);
    expect(image.dockerfile).toContain('GOFLAGS=-mod=vendor');
    expect(image.binaryName).toBe('hello');
  });

  test('defaults: the stock distroless and golang bases with their cited digests', () => {
    const stack = imageStack();
    const image = new GoImage(stack, 'hello', { moduleDir: module(), registry: 'registry.internal', repository: 'hello' });
    expect(image.dockerfile).toMatch(/^FROM docker\.io\/library\/golang:1\.26-bookworm@sha256:[0-9a-f]{64} AS build$/m);
    expect(image.dockerfile).toMatch(/^FROM gcr\.io\/distroless\/static-debian13:nonroot@sha256:[0-9a-f]{64}$/m);
  });

  test('main package, binary name, tags, ldflags and proxy mode', () => {
    const { image, json } = goImage({
      mainPackage: './cmd/tool',
      buildTags: ['netgo'],
      ldflags: ['-X', 'main.version=1.2.3'],
      moduleSource: ModuleSource.proxy('http://127.0.0.1:3000'),
      tag: 'v1.2.3',
      sourceDateEpoch: 1790000000,
    });
    expect(image.binaryName).toBe('tool');
    expect(image.dockerfile).toContain("-tags=netgo '-ldflags=-s -w -buildid= -X main.version=1.2.3' -o /out/rootfs/usr/local/bin/tool ./cmd/tool >");
    expect(image.dockerfile).toContain('GOPROXY=http://127.0.0.1:3000,off');
    expect(onlyResource(json, 'docker_image').name).toBe('127.0.0.1:5000/team/hello-go:v1.2.3');
    expect(dig(onlyResource(json, 'docker_image'), 'build.network_mode')).toBe('host');
    expect(dig(onlyResource(json, 'docker_image'), 'build.build_args')).toEqual({ SOURCE_DATE_EPOCH: '1790000000' });
  });

  test('the context hash follows the module content and the generated files, not the location', () => {
    const a = goImage({}, module()).image;
    const b = goImage({}, module()).image;
    expect(a.contextHash).toBe(b.contextHash);
    expect(goImage({}, module({ 'main.go': 'package main\n\nfunc main() { println() }\n' })).image.contextHash).not.toBe(a.contextHash);
    expect(goImage({ ports: [9090] }).image.contextHash).not.toBe(a.contextHash);
    // Test files and VCS folders are not part of the image, so they do not trigger a rebuild.
    expect(goImage({}, module({ 'main_test.go': 'package main // changed\n', '.git/HEAD': 'x' })).image.contextHash).toBe(a.contextHash);
  });

  test('synth stages the context beside cdk.tf.json, with no path of the synth machine', () => {
    const outdir = tmp('agc-out-');
    dirs.push(outdir);
    const app = new App({ outdir });
    const stack = imageStack(app);
    const moduleDir = module();
    const image = new GoImage(stack, 'hello', { moduleDir, registry: '127.0.0.1:5000', repository: 'team/hello-go', ...BASES });
    app.synth();
    const stackDir = join(outdir, 'stacks', 'images');
    const staged = join(stackDir, image.contextPath);
    expect(readdirSync(staged).sort()).toEqual(['.dockerignore', 'Dockerfile', 'cmd', 'go.mod', 'go.sum', 'main.go', 'vendor']);
    expect(readFileSync(join(staged, 'Dockerfile'), 'utf8')).toBe(image.dockerfile);
    expect(readFileSync(join(staged, '.dockerignore'), 'utf8')).toBe(image.dockerignore);
    const tf = readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8');
    expect(tf).not.toContain(moduleDir);
    expect(tf).not.toContain(outdir);
    expect(tf).not.toContain(process.cwd());
    // A second synth after a change replaces the stale context instead of piling up.
    writeFileSync(join(moduleDir, 'main.go'), 'package main\n\nfunc main() { println(1) }\n');
    const app2 = new App({ outdir });
    const image2 = new GoImage(imageStack(app2), 'hello', { moduleDir, registry: '127.0.0.1:5000', repository: 'team/hello-go', ...BASES });
    app2.synth();
    expect(readdirSync(join(stackDir, 'assets', 'hello'))).toEqual([image2.contextPath.split('/').pop()]);
  });

  test('the digest flows across stacks into a GoService, read from a relative state path', () => {
    const outdir = tmp('agc-out-');
    dirs.push(outdir);
    const app = new App({ outdir });
    const images = imageStack(app);
    const image = new GoImage(images, 'hello', { moduleDir: module(), registry: '127.0.0.1:5000', repository: 'team/hello-go', ...BASES });
    const cluster = new AirgapStack(app, 'cluster');
    new KubernetesProvider(cluster, 'kubernetes', {});
    new GoService(cluster, 'hello', { image: image.imageRef });
    app.synth();
    const clusterJson = JSON.parse(readFileSync(join(outdir, 'stacks', 'cluster', 'cdk.tf.json'), 'utf8')) as SynthJson & { data: Record<string, Record<string, Record<string, unknown>>> };
    const [[remoteId, remote]] = Object.entries(clusterJson.data.terraform_remote_state);
    expect(remote.backend).toBe('local');
    expect(remote.config).toEqual({ path: '../images/terraform.images.tfstate' });
    const container = dig(onlyResource(clusterJson, 'kubernetes_deployment_v1'), 'spec.template.spec.container.0') as Record<string, unknown>;
    expect(container.image).toMatch(new RegExp(`^127\\.0\\.0\\.1:5000/team/hello-go@\\$\\{data\\.terraform_remote_state\\.${remoteId}\\.outputs\\.[A-Za-z0-9_-]+\\}$`));
    const imagesJson = JSON.parse(readFileSync(join(outdir, 'stacks', 'images', 'cdk.tf.json'), 'utf8')) as { output: Record<string, { value: string }> };
    expect(Object.values(imagesJson.output).map((o) => o.value)).toEqual([expect.stringMatching(/^\$\{docker_registry_image\.hello_Push_[0-9A-F]{8}\.sha256_digest\}$/)]);
  });
});

describe('GoImage bad input', () => {
  test('no go.mod', () => {
    const dir = tmp('agc-empty-');
    dirs.push(dir);
    expect(errorOf(() => goImage({}, dir))).toContain(`images/hello (GoImage): prop "moduleDir" is ${JSON.stringify(dir)}, which has no go.mod`);
  });

  test.each([
    ['../other', 'prop "mainPackage" is "../other", which escapes the module'],
    ['./cmd/../../x', 'prop "mainPackage" is "./cmd/../../x", which escapes the module'],
    ['/usr/src/app', 'prop "mainPackage" is "/usr/src/app", which escapes the module'],
    ['./cmd/missing', 'prop "mainPackage" is "./cmd/missing", which is not a folder of the module'],
  ])('main package %s', (mainPackage, expected) => {
    expect(errorOf(() => goImage({ mainPackage }))).toContain(`images/hello (GoImage): ${expected}`);
  });

  test.each([
    [{ registry: 'Registry Internal' }, 'prop "registry/repository/tag" is "Registry Internal/team/hello-go:ctx-000000000000"'],
    [{ repository: 'Team/Hello' }, 'which has the repository path component "Team"'],
    [{ tag: '-bad' }, 'which has the tag "-bad"'],
    [{ builder: BaseImage.fromReference('golang:1.26') }, 'prop "builder" is "golang:1.26", which names no registry host'],
  ] as Array<[Partial<GoImageProps>, string]>)('unparseable image name %#', (props, expected) => {
    expect(errorOf(() => goImage(props))).toContain(expected);
  });

  test('a base image without a digest is an error unless opted out by name', () => {
    expect(errorOf(() => goImage({ runtime: BaseImage.fromReference('gcr.io/distroless/static-debian13:nonroot') }))).toContain(
      'prop "runtime" is "gcr.io/distroless/static-debian13:nonroot", which is not pinned by digest. Append @sha256:<digest>',
    );
    const { image } = goImage({ runtime: BaseImage.unpinned('gcr.io/distroless/static-debian13:nonroot', 'mirror re-tags a patched base nightly') });
    expect(image.dockerfile).toContain('FROM 127.0.0.1:5000/distroless/static-debian13:nonroot\n');
  });

  test.each([[[0]], [[65536]], [[8080, -1]]])('ports %j', (ports) => {
    expect(errorOf(() => goImage({ ports }))).toMatch(/prop "ports\[\d\]" is -?\d+, which is not a port number from 1 to 65535/);
  });

  test('vendor mode without vendor/', () => {
    const dir = module();
    rmSync(join(dir, 'vendor'), { recursive: true });
    expect(errorOf(() => goImage({ moduleSource: ModuleSource.vendor() }, dir))).toContain('prop "moduleSource" is "vendor", which needs a vendor/ folder');
    expect(errorOf(() => goImage({}, dir))).toContain('prop "moduleSource" is undefined, which is unset, and the module requires other modules but has no vendor/ folder');
  });

  test('none mode for a module with requirements, and a bad proxy URL', () => {
    expect(errorOf(() => goImage({ moduleSource: ModuleSource.none() }))).toContain('prop "moduleSource" is "none", which cannot build a module that requires other modules');
    expect(errorOf(() => goImage({ moduleSource: ModuleSource.proxy('127.0.0.1:3000') }))).toContain('prop "moduleSource.proxyUrl" is "127.0.0.1:3000", which is not an http(s) URL');
  });

  test('ldflags, build tags, labels and epoch', () => {
    const message = errorOf(() => goImage({ ldflags: ['-X main.v=1'], buildTags: ['a-b'], labels: { 'bad key': 'x' }, sourceDateEpoch: -1 }));
    expect(message).toContain('prop "ldflags[0]" is "-X main.v=1", which is empty or holds white space');
    expect(message).toContain('prop "buildTags[0]" is "a-b", which is not a build tag');
    expect(message).toContain('prop "labels key" is "bad key"');
    expect(message).toContain('prop "sourceDateEpoch" is -1');
  });

  test('a symlink in the module', () => {
    const dir = module();
    symlinkSync('/etc/hostname', join(dir, 'hostname'));
    expect(errorOf(() => goImage({}, dir))).toContain('contains a symlink at "hostname"');
  });

  test('outside an AirgapStack', () => {
    const stack = new TerraformStack(Testing.app(), 'plain');
    expect(errorOf(() => new GoImage(stack, 'hello', { moduleDir: module(), registry: 'r.internal', repository: 'x', ...BASES }))).toContain(
      'plain/hello (GoImage): prop "scope" is "plain", which is a plain TerraformStack',
    );
  });

  test('a failed GoImage leaves nothing behind', () => {
    const stack = imageStack();
    expect(() => new GoImage(stack, 'hello', { moduleDir: module(), registry: 'r.internal', repository: 'x', ports: [0], ...BASES })).toThrow();
    expect(stack.node.tryFindChild('hello')).toBeUndefined();
    expect(resourcesOf(JSON.parse(Testing.synth(stack)) as SynthJson, 'docker_image')).toHaveLength(0);
  });
});
