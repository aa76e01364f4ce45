import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { App, TerraformOutput, Testing } from 'cdktf';
import { AirgapStack, BaseImage, BuildEngine, GoImage, GoImageBuild, GoImageBuildKind, GoImageProps } from '../../lib';
import { copyHelloGo, tmp } from '../support/scratch';
import { dig, errorOf, onlyResource, SynthJson } from '../support/synth';

const D2 = `sha256:${'2'.repeat(64)}`;
const RUNTIME = BaseImage.fromReference(`127.0.0.1:5000/distroless/static-debian13:nonroot@${D2}`);
const HELLO = copyHelloGo();

function hostImage(props: Partial<GoImageProps> = {}, app: App = Testing.app()) {
  const stack = new AirgapStack(app, 'images');
  new DockerProvider(stack, 'docker', {});
  const image = new GoImage(stack, 'hello', {
    moduleDir: HELLO,
    registry: '127.0.0.1:5000',
    repository: 'team/hello-go',
    runtime: RUNTIME,
    buildMode: GoImageBuild.hostGo({ plainHttpRegistries: ['127.0.0.1:5000'] }),
    platforms: ['linux/amd64', 'linux/arm64'],
    ...props,
  });
  new TerraformOutput(stack, 'ref', { value: image.imageRef });
  return { stack, image, json: JSON.parse(Testing.synth(stack)) as SynthJson };
}

describe('GoImageBuild', () => {
  test('dockerfile() is the default, on podman, with cache mounts; the legacy builder has none', () => {
    expect(GoImageBuild.dockerfile()).toMatchObject({ kind: GoImageBuildKind.DOCKERFILE, engine: BuildEngine.PODMAN, cacheMounts: true });
    expect(GoImageBuild.dockerfile({ engine: BuildEngine.DOCKER_LEGACY }).cacheMounts).toBe(false);
    expect(GoImageBuild.hostGo()).toMatchObject({ kind: GoImageBuildKind.HOST_GO, engine: undefined, cacheMounts: false });
    expect(GoImageBuild.dockerfile({ kitCommand: '/opt/kit' }).kitOptions).toEqual({ kitCommand: '/opt/kit', plainHttpRegistries: undefined });
  });

  test('Docker with BuildKit asks the provider for builder version 2; the legacy builder gets no --mount', () => {
    const stack = new AirgapStack(Testing.app(), 'images');
    new DockerProvider(stack, 'docker', {});
    const base = { moduleDir: HELLO, registry: '127.0.0.1:5000', runtime: RUNTIME, builder: BaseImage.fromReference(`127.0.0.1:5000/library/golang:1.26@${D2}`) };
    const kit = new GoImage(stack, 'kit', { ...base, repository: 'team/a', buildMode: GoImageBuild.dockerfile({ engine: BuildEngine.DOCKER_BUILDKIT }) });
    const legacy = new GoImage(stack, 'legacy', { ...base, repository: 'team/b', buildMode: GoImageBuild.dockerfile({ engine: BuildEngine.DOCKER_LEGACY }) });
    const json = JSON.parse(Testing.synth(stack)) as SynthJson;
    const images = json.resource?.docker_image ?? {};
    const byName = (repo: string) => Object.values(images).find((r) => String(r.name).includes(repo)) as Record<string, unknown>;
    expect(dig(byName('team/a'), 'build.version')).toBe('2');
    expect(dig(byName('team/b'), 'build.version')).toBeUndefined();
    expect(kit.dockerfile).toContain('--mount=type=cache');
    expect(legacy.dockerfile).not.toContain('--mount');
  });
});

describe('GoImage from the Dockerfile with sbom', () => {
  test('a terraform_data, replaced with each pushed digest, runs airgap-kit sbom on the pushed image; the kit lists the referrer', () => {
    const outdir = tmp('agc-df-sbom-');
    const app = new App({ outdir });
    const { image, json } = hostImage(
      {
        builder: BaseImage.fromReference(`127.0.0.1:5000/library/golang:1.26@${D2}`),
        buildMode: GoImageBuild.dockerfile({ plainHttpRegistries: ['127.0.0.1:5000'] }),
        platforms: undefined,
        sbom: true,
        sourceDateEpoch: 1790000000,
      },
      app,
    );
    const push = Object.keys(json.resource?.docker_registry_image ?? {})[0];
    const step = onlyResource(json, 'terraform_data');
    const ref = `127.0.0.1:5000/team/hello-go@\${docker_registry_image.${push}.sha256_digest}`;
    expect(step.triggers_replace).toEqual({ image: ref });
    expect(step.provisioner).toEqual([
      {
        'local-exec': {
          command: `$\${AIRGAP_KIT:-npx --no-install airgap-kit} sbom -image ${ref} -binary /usr/local/bin/hello-go -module ${image.contextPath} -base ${RUNTIME.reference} -created 1790000000 -plain-http 127.0.0.1:5000`,
          working_dir: '${path.module}',
        },
      },
    ]);
    expect(image.sbomStep).toBeDefined();
    app.synth();
    const kit = JSON.parse(readFileSync(join(outdir, 'stacks', 'images', 'offline', 'images.json'), 'utf8')) as { images: Array<{ use: string; target: string; referrers?: string[] }> };
    expect(kit.images.filter((i) => i.use === 'build')).toEqual([expect.objectContaining({ target: `127.0.0.1:5000/team/hello-go:${image.tag}`, referrers: ['application/spdx+json'] })]);
  });

  test('without sbom, a Dockerfile image has no airgap-kit step', () => {
    const { json } = hostImage({ buildMode: GoImageBuild.dockerfile(), platforms: undefined, builder: BaseImage.fromReference(`127.0.0.1:5000/library/golang:1.26@${D2}`) });
    expect(json.resource?.terraform_data).toBeUndefined();
  });
});

describe('GoImage with GoImageBuild.hostGo()', () => {
  test('a terraform_data runs airgap-kit build-image on the staged spec; the digest is read back and flows into imageRef', () => {
    const { image, json } = hostImage();
    expect(json.resource?.docker_image).toBeUndefined();
    expect(json.resource?.docker_registry_image).toBeUndefined();
    const build = onlyResource(json, 'terraform_data');
    expect(build.triggers_replace).toEqual({ context_sha256: image.contextHash, target: `127.0.0.1:5000/team/hello-go:${image.tag}` });
    expect(build.provisioner).toEqual([
      {
        'local-exec': {
          command: `$\${AIRGAP_KIT:-npx --no-install airgap-kit} build-image -spec ${image.contextPath}/airgap-build.json -tag ${image.tag}`,
          working_dir: '${path.module}',
        },
      },
    ]);
    const data = (json.data as Record<string, Record<string, Record<string, unknown>>>).docker_registry_image;
    const [[dataId, pushed]] = Object.entries(data);
    expect(pushed.name).toBe(`127.0.0.1:5000/team/hello-go:${image.tag}`);
    expect(pushed.depends_on).toEqual([`terraform_data.${Object.keys(json.resource?.terraform_data ?? {})[0]}`]);
    expect((json.output as Record<string, { value: string }>).ref.value).toBe(`127.0.0.1:5000/team/hello-go@\${data.docker_registry_image.${dataId}.sha256_digest}`);
    expect(image).toMatchObject({ dockerfile: undefined, dockerImage: undefined, registryImage: undefined, platforms: ['linux/amd64', 'linux/arm64'], sbom: true });
    expect(image.tag).toBe(`ctx-${image.contextHash.slice(0, 12)}`);
  });

  test('the staged spec holds every build setting; the module is staged beside it; no Dockerfile', () => {
    const outdir = tmp('agc-hostgo-');
    const app = new App({ outdir });
    const { image } = hostImage({ ldflags: ['-X', 'main.version=1.2.3'], buildTags: ['netgo'], sourceDateEpoch: 1790000000, labels: { a: 'b' } }, app);
    app.synth();
    const dir = join(outdir, 'stacks', 'images', image.contextPath);
    const spec = JSON.parse(readFileSync(join(dir, 'airgap-build.json'), 'utf8')) as Record<string, unknown>;
    expect(spec).toEqual({
      formatVersion: 1,
      module: '.',
      mainPackage: '.',
      binary: 'hello-go',
      binaryDir: '/usr/local/bin',
      env: { GOFLAGS: '-mod=vendor', GOPROXY: 'off' },
      tags: ['netgo'],
      ldflags: ['-X', 'main.version=1.2.3'],
      runtime: RUNTIME.reference,
      platforms: ['linux/amd64', 'linux/arm64'],
      repository: '127.0.0.1:5000/team/hello-go',
      user: '65532:65532',
      ports: [8080],
      labels: {
        'org.opencontainers.image.created': '2026-09-21T14:13:20Z',
        'org.opencontainers.image.title': 'hello-go',
        'org.opencontainers.image.base.name': '127.0.0.1:5000/distroless/static-debian13:nonroot',
        'org.opencontainers.image.base.digest': D2,
        a: 'b',
      },
      sourceDateEpoch: 1790000000,
      sbom: true,
      plainHttp: ['127.0.0.1:5000'],
    });
    expect(readFileSync(join(dir, 'vendor', 'modules.txt'), 'utf8')).toContain('golang.org/x/text v0.43.0');
    expect(() => readFileSync(join(dir, 'Dockerfile'))).toThrow();
    // The kit lists only the runtime base: no builder image is used.
    const kit = JSON.parse(readFileSync(join(outdir, 'stacks', 'images', 'offline', 'images.json'), 'utf8')) as { images: Array<{ target: string; use: string }> };
    expect(kit.images.filter((i) => i.use === 'base').map((i) => i.target)).toEqual([RUNTIME.reference]);
    // The build is listed with its platforms and SBOMs, so pack carries the whole index and checks them.
    expect(kit.images.filter((i) => i.use === 'build')).toEqual([
      { target: `127.0.0.1:5000/team/hello-go:${image.tag}`, index: true, use: 'build', neededBy: ['images/hello'], platforms: ['linux/amd64', 'linux/arm64'], referrers: ['application/spdx+json'] },
    ]);
  });

  test('built outside the gap (AIRGAP_BUILT_IMAGES), the reference and the kit\'s entry carry the pushed digest', () => {
    const first = hostImage();
    const digest = `sha256:${'7'.repeat(64)}`;
    const file = join(tmp('agc-built-'), 'built.json');
    writeFileSync(file, JSON.stringify({ formatVersion: 1, images: { [`127.0.0.1:5000/team/hello-go:${first.image.tag}`]: digest } }));
    const outdir = tmp('agc-hostgo-built-');
    const app = new App({ outdir, context: { 'airgap-go-constructs:builtImages': file } });
    const { image, json } = hostImage({}, app);
    expect((json.output as Record<string, { value: string }>).ref.value).toBe(`127.0.0.1:5000/team/hello-go@${digest}`);
    app.synth();
    const kit = JSON.parse(readFileSync(join(outdir, 'stacks', 'images', 'offline', 'images.json'), 'utf8')) as { images: Array<{ use: string; digest?: string }> };
    expect(kit.images.filter((i) => i.use === 'build').map((i) => i.digest)).toEqual([digest]);
    expect(image.tag).toBe(first.image.tag);
  });

  test('the same input synthesizes the same bytes; a changed setting changes the hash and the tag', () => {
    const a = hostImage();
    const b = hostImage();
    expect(Testing.synth(a.stack)).toBe(Testing.synth(b.stack));
    const c = hostImage({ platforms: ['linux/amd64'] });
    expect(c.image.contextHash).not.toBe(a.image.contextHash);
    expect(c.image.tag).not.toBe(a.image.tag);
  });

  test('kitCommand replaces npx; AIRGAP_KIT still overrides it where tofu runs', () => {
    const { json } = hostImage({ buildMode: GoImageBuild.hostGo({ kitCommand: '/opt/airgap-kit/airgap-kit' }) });
    expect(dig(onlyResource(json, 'terraform_data'), 'provisioner')).toEqual([
      expect.objectContaining({ 'local-exec': expect.objectContaining({ command: expect.stringMatching(/^\$\$\{AIRGAP_KIT:-\/opt\/airgap-kit\/airgap-kit\} build-image /) }) }),
    ]);
  });

  test.each([
    [{ buildMode: GoImageBuild.dockerfile(), platforms: ['linux/arm64'] }, 'prop "platforms" is ["linux/arm64"], which needs GoImageBuild.hostGo(): GoImageBuild.dockerfile() (engine podman) builds for the engine\'s own platform only'],
    [{ builder: BaseImage.golang() }, 'prop "builder" is'],
    [{ buildNetwork: 'host' }, 'prop "buildNetwork" is "host", which is unused by GoImageBuild.hostGo()'],
    [{ keepRemotely: false }, 'prop "keepRemotely" is false, which is not supported by GoImageBuild.hostGo()'],
    [{ platforms: [] }, 'prop "platforms" is [], which is empty'],
    [{ platforms: ['linux/amd64', 'linux/amd64'] }, 'prop "platforms[1]" is "linux/amd64", which is listed twice'],
    [{ platforms: ['windows/amd64'] }, 'prop "platforms[0]" is "windows/amd64", which is not a Linux platform Go builds static binaries for'],
    [{ platforms: ['linux/arm64/v9'] }, 'prop "platforms[0]" is "linux/arm64/v9"'],
    [{ buildMode: GoImageBuild.hostGo({ kitCommand: 'kit; rm -rf /' }) }, 'prop "buildMode.kitCommand" is "kit; rm -rf /"'],
    [{ buildMode: GoImageBuild.hostGo({ plainHttpRegistries: ['http://x'] }) }, 'prop "buildMode.plainHttpRegistries[0]" is "http://x", which is not a registry host[:port]'],
  ] as Array<[Partial<GoImageProps>, string]>)('a wrong combination is a synth error naming the construct, prop and fix %#', (props, expected) => {
    const message = errorOf(() => hostImage(props));
    expect(message).toContain('images/hello (GoImage): ');
    expect(message).toContain(expected);
  });
});
