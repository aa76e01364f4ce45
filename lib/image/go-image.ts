import { existsSync } from 'fs';
import { basename, isAbsolute, join, posix, resolve } from 'path';
import { DataDockerRegistryImage } from '@cdktf/provider-docker/lib/data-docker-registry-image';
import { Image } from '@cdktf/provider-docker/lib/image';
import { RegistryImage } from '@cdktf/provider-docker/lib/registry-image';
import { DataResource } from 'cdktf';
import { Construct } from 'constructs';
import { AirgapStack } from '../stack/airgap-stack';
import { BaseImage } from './base-image';
import { ContextFile, readModuleFiles } from '../private/build-context';
import { builtDigest, stageAndPush } from '../private/context-image';
import { BINARY_DIR, goBuildEnv, imageLabels, renderDockerfile, renderDockerignore } from '../private/dockerfile';
import { attachSbomAfterPush, SPDX_MEDIA_TYPE, stageAndBuildOnHost } from '../private/host-build';
import { BuildEngine, GoImageBuild, GoImageBuildKind } from './go-image-build';
import { PropChecker } from '../private/prop-checker';
import { GoService } from '../kubernetes/go-service';
import { ImageReference } from '../core/image-reference';
import { GoModule } from './go-module';
import { ModuleSource, ModuleSourceKind } from './module-source';
import { KitImageUse } from '../stack/kit-contents';
import { RegistryMirror } from '../core/registry-mirror';
import { checkInteger, checkPort } from '../private/validation';

/** Props for {@link GoImage}. */
export interface GoImageProps {
  /** Folder of the Go module (holding go.mod). Relative paths resolve against the synth's working directory. */
  readonly moduleDir: string;
  /**
   * Main package, relative to the module root.
   * @default '.'
   */
  readonly mainPackage?: string;
  /**
   * Name of the binary.
   * @default - the main package's folder name, or the last element of the module path
   */
  readonly binaryName?: string;
  /**
   * How the image is built: the generated Dockerfile through the docker
   * provider's engine, or ko-style with the host's Go (reproducible,
   * multi-platform). See {@link GoImageBuild} for which engines each supports.
   * @default GoImageBuild.dockerfile()
   */
  readonly buildMode?: GoImageBuild;
  /**
   * Platforms to build, `os/arch[/variant]`, such as `['linux/amd64', 'linux/arm64']`.
   * Several give one OCI index (Docker manifest list on a Docker-typed base).
   * Needs `GoImageBuild.hostGo()`, and a runtime base that is an index holding each.
   * @default - the engine's platform (dockerfile), ['linux/amd64'] (hostGo)
   */
  readonly platforms?: string[];
  /**
   * Attach an SPDX 2.3 SBOM, from the binary's Go build info and the module's
   * go.sum, to each platform's manifest as an OCI referrer. With the Dockerfile,
   * `airgap-kit sbom` reads the binary out of the pushed image after the push,
   * so airgap-kit must run where `tofu apply` runs (npx, or AIRGAP_KIT).
   * @default - true with hostGo, false with dockerfile
   */
  readonly sbom?: boolean;
  /**
   * Builder stage base (dockerfile mode: hostGo builds with the host's Go).
   * @default BaseImage.golang()
   */
  readonly builder?: BaseImage;
  /**
   * Runtime stage base.
   * @default BaseImage.distrolessStatic()
   */
  readonly runtime?: BaseImage;
  /**
   * Registry mirror applied to both bases, such as
   * `RegistryMirror.of({ 'gcr.io/distroless': 'registry.internal/distroless' })`.
   * @default - the bases are used as written
   */
  readonly mirror?: RegistryMirror;
  /**
   * Where modules come from.
   * @default - ModuleSource.vendor() when the module has vendor/, ModuleSource.none() when it requires nothing
   */
  readonly moduleSource?: ModuleSource;
  /**
   * Extra `-ldflags`, after `-s -w -buildid=`, such as `-X main.version=1.2.3`.
   * @default - none
   */
  readonly ldflags?: string[];
  /**
   * Go build tags.
   * @default - none
   */
  readonly buildTags?: string[];
  /**
   * Ports the image EXPOSEs.
   * @default [8080]
   */
  readonly ports?: number[];
  /** Target registry host, with port: `registry.internal` or `127.0.0.1:5000`. */
  readonly registry: string;
  /** Repository below the registry: `team/hello-go`. */
  readonly repository: string;
  /**
   * Tag pushed beside the digest.
   * @default - `ctx-` and the first 12 hex digits of the build context's hash
   */
  readonly tag?: string;
  /**
   * Seconds since the epoch for `org.opencontainers.image.created` and the
   * binary's mtime. Pass the commit time for meaningful dates; the clock is never read.
   * @default 0
   */
  readonly sourceDateEpoch?: number;
  /**
   * Extra OCI labels.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Network of the build containers.
   * @default - 'none' (hermetic) for vendor and none module sources, 'host' for a proxy on loopback
   */
  readonly buildNetwork?: string;
  /**
   * Keep the pushed image in the registry when the resource is destroyed.
   * @default false
   */
  readonly keepRemotely?: boolean;
}

const PLATFORM = /^linux\/(amd64(\/v[1-4])?|arm64(\/v8)?|arm\/v[67]|386|ppc64le|s390x|riscv64)$/;
const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const BUILD_TAG = /^[A-Za-z0-9_.]+$/;
const SAFE_LDFLAG = /^[^\s"'`$\\]+$/;

/**
 * A distroless, nonroot image of a Go module, built and pushed at apply:
 * from a generated multi-stage Dockerfile through the docker provider (the
 * default), or ko-style with the host's Go (`GoImageBuild.hostGo()`:
 * reproducible, multi-platform, with SBOMs).
 *
 * At synth the module's files (no VCS, tests or testdata) are staged with the
 * generated Dockerfile and .dockerignore (or the hostGo build spec) under the
 * stack's `assets/` folder, so they cross the gap with the Terraform. The
 * stage's content hash triggers the build: an unchanged tree never rebuilds,
 * any change does. `imageRef` is `<registry>/<repo>@<registry digest>`, ready
 * for GoService.
 */
export class GoImage extends Construct {
  /** The generated Dockerfile text (dockerfile mode). */
  public readonly dockerfile?: string;
  /** The generated .dockerignore text (dockerfile mode). */
  public readonly dockerignore?: string;
  /** How it is built. */
  public readonly buildMode: GoImageBuild;
  /** The platforms it is built for; empty for the engine's own (dockerfile mode). */
  public readonly platforms: string[];
  /** Whether an SBOM is attached. */
  public readonly sbom: boolean;
  /** sha256 of the staged build context (files, modes and generated files). */
  public readonly contextHash: string;
  /** The staged context's path, relative to the stack directory. */
  public readonly contextPath: string;
  /** `<registry>/<repository>`. */
  public readonly repositoryName: string;
  /** The tag built and pushed. */
  public readonly tag: string;
  /** Name of the binary in the image. */
  public readonly binaryName: string;
  /** The docker_image build (escape hatch; dockerfile mode). */
  public readonly dockerImage?: Image;
  /** The docker_registry_image push (escape hatch; dockerfile mode). */
  public readonly registryImage?: RegistryImage;
  /** The terraform_data whose local-exec runs `airgap-kit build-image` (escape hatch; hostGo mode). */
  public readonly hostBuild?: DataResource;
  /** The docker_registry_image data source reading the pushed digest back (escape hatch; hostGo mode). */
  public readonly pushedImage?: DataDockerRegistryImage;
  /** The terraform_data whose local-exec runs `airgap-kit sbom` after the push (escape hatch; dockerfile mode with `sbom`). */
  public readonly sbomStep?: DataResource;
  /** `<registry>/<repository>@sha256:…`, known after apply; pass it to GoService's `image`. */
  public readonly imageRef: string;

  constructor(scope: Construct, id: string, props: GoImageProps) {
    super(scope, id);
    const stack = AirgapStack.enclosing(this, 'GoImage');
    const c = new PropChecker(this, 'GoImage');
    const moduleDir = resolve(props.moduleDir);
    const mainPackage = props.mainPackage ?? '.';
    const build = props.buildMode ?? GoImageBuild.dockerfile();
    const hostGo = build.kind === GoImageBuildKind.HOST_GO;
    const builder = props.builder ?? BaseImage.golang();
    const runtime = props.runtime ?? BaseImage.distrolessStatic();
    const ports = props.ports ?? [8080];
    const ldflags = props.ldflags ?? [];
    const buildTags = props.buildTags ?? [];
    const epoch = props.sourceDateEpoch ?? 0;

    // The module: go.mod, its path, and whether it needs modules at all.
    const module = GoModule.fromDirectory(props.moduleDir);
    c.addAll(module._problems('moduleDir'));
    const { hasGoMod, modulePath, requiresModules, hasVendor } = module;
    const source = props.moduleSource ?? (hasVendor ? ModuleSource.vendor() : requiresModules ? undefined : ModuleSource.none());
    if (hasGoMod && source === undefined) {
      c.fail('moduleSource', undefined, 'is unset, and the module requires other modules but has no vendor/ folder', 'Run `go mod vendor` in the module, or pass ModuleSource.proxy("http://offline-mirror:3000").');
    }
    if (hasGoMod && source?.kind === ModuleSourceKind.VENDOR && !hasVendor) {
      c.fail('moduleSource', 'vendor', 'needs a vendor/ folder with modules.txt, which the module does not have', 'Run `go mod vendor` in the module and commit vendor/, or use ModuleSource.proxy(url).');
    }
    if (hasGoMod && source?.kind === ModuleSourceKind.NONE && requiresModules) {
      c.fail('moduleSource', 'none', 'cannot build a module that requires other modules', 'Use ModuleSource.vendor() or ModuleSource.proxy(url).');
    }
    if (source?.kind === ModuleSourceKind.PROXY) {
      const url = source.proxyUrl ?? '';
      if (!/^https?:\/\/[^\s,|]+$/.test(url)) {
        c.fail('moduleSource.proxyUrl', url, 'is not an http(s) URL', 'Pass the proxy base URL, such as "http://127.0.0.1:3000".');
      }
    }

    // The main package must stay inside the module.
    const mainNorm = posix.normalize(mainPackage.replace(/\\/g, '/'));
    if (isAbsolute(mainPackage) || mainNorm === '..' || mainNorm.startsWith('../')) {
      c.fail('mainPackage', mainPackage, 'escapes the module', 'Give a path inside the module, such as "." or "./cmd/server".');
    } else if (hasGoMod && !existsSync(join(moduleDir, mainNorm))) {
      c.fail('mainPackage', mainPackage, `is not a folder of the module (looked for ${join(moduleDir, mainNorm)})`, 'Give the folder of the main package, such as "./cmd/server".');
    }
    const mainArg = mainNorm === '.' ? '.' : `./${mainNorm}`;
    const binaryName = props.binaryName ?? (mainNorm === '.' ? basename(modulePath ?? moduleDir) : basename(mainNorm));
    c.check('binaryName', binaryName, BINARY_NAME.test(binaryName) ? undefined : 'is not a file name of letters, digits, ".", "_" and "-"', 'Pass binaryName such as "hello-go".');

    // Images: bases pinned, target parseable.
    c.addAll(builder._problems('builder'));
    c.addAll(runtime._problems('runtime'));
    if (props.mirror) {
      c.addAll(props.mirror._problems('mirror'));
    }
    const tag = props.tag ?? 'ctx-000000000000';
    const target = ImageReference._check(`${props.registry}/${props.repository}:${tag}`);
    if (!target.ok) {
      c.fail('registry/repository/tag', `${props.registry}/${props.repository}:${tag}`, target.problem, 'Use a registry host such as "registry.internal:5000" and a lowercase repository such as "team/hello-go".');
    }

    for (const [i, port] of ports.entries()) c.check(`ports[${i}]`, port, checkPort(port), 'Use the port the service listens on, such as 8080.');
    for (const [i, flag] of ldflags.entries()) {
      c.check(`ldflags[${i}]`, flag, SAFE_LDFLAG.test(flag) ? undefined : 'is empty or holds white space, quotes, "$" or "\\"', 'Pass one flag per entry without quoting, such as "-X" and "main.version=1.2.3" as two entries.');
    }
    for (const [i, t] of buildTags.entries()) {
      c.check(`buildTags[${i}]`, t, BUILD_TAG.test(t) ? undefined : 'is not a build tag (letters, digits, "_" and ".")', 'Pass tags such as "netgo".');
    }
    c.check('sourceDateEpoch', epoch, checkInteger(epoch, 0, 253402300799), 'Pass whole seconds since 1970, such as the commit time from `git log -1 --format=%ct`.');
    for (const [key, value] of Object.entries(props.labels ?? {})) {
      // OCI labels are free text, unlike Kubernetes labels, but one per line in the Dockerfile.
      c.check('labels key', key, /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) ? undefined : 'is not a label key (letters, digits, ".", "_", "/" and "-")', 'Use OCI label keys such as "org.opencontainers.image.source".');
      c.check(`labels["${key}"]`, value, typeof value === 'string' && !/[\r\n]/.test(value) ? undefined : 'is not a single line of text', 'Put the value on one line.');
    }
    if (props.buildNetwork !== undefined && !/^[a-z][a-z0-9_.-]*$/.test(props.buildNetwork)) {
      c.fail('buildNetwork', props.buildNetwork, 'is not a network name', 'Use "none", "host", "default" or a network name.');
    }

    // Each mode's combinations: what the engine cannot do is a synth error, not an apply failure.
    const platforms = props.platforms ?? (hostGo ? ['linux/amd64'] : []);
    const sbom = props.sbom ?? hostGo;
    if (!hostGo && props.platforms !== undefined) {
      c.fail('platforms', props.platforms, `needs GoImageBuild.hostGo(): GoImageBuild.dockerfile() (engine ${build.engine}) builds for the engine's own platform only`, 'Pass buildMode: GoImageBuild.hostGo() to cross-compile and push one index, or drop platforms.');
    }
    if (hostGo) {
      if (props.builder !== undefined) c.fail('builder', props.builder.reference, 'is unused by GoImageBuild.hostGo(), which builds with the Go toolchain where tofu apply runs', 'Drop builder, or use GoImageBuild.dockerfile().');
      if (props.buildNetwork !== undefined) c.fail('buildNetwork', props.buildNetwork, 'is unused by GoImageBuild.hostGo(), which runs no build container', 'Drop buildNetwork: the host build uses the module source\'s GOPROXY only.');
      if (props.keepRemotely === false) c.fail('keepRemotely', false, 'is not supported by GoImageBuild.hostGo(): its pushed index stays in the registry on destroy', 'Drop keepRemotely, and delete old tags with the registry\'s garbage collection.');
      if (platforms.length === 0) c.fail('platforms', platforms, 'is empty', "Pass at least one platform, such as ['linux/amd64'].");
    }
    const kitCommand = build.kitOptions.kitCommand;
    if (kitCommand !== undefined && (kitCommand.trim() === '' || /[\r\n`$;&|<>]/.test(kitCommand))) {
      c.fail('buildMode.kitCommand', kitCommand, 'is empty or holds a newline or one of ` $ ; & | < >', 'Pass a command and its arguments, such as "npx --no-install airgap-kit" or "/opt/airgap-kit/airgap-kit".');
    }
    for (const [i, host] of (build.kitOptions.plainHttpRegistries ?? []).entries()) {
      c.check(`buildMode.plainHttpRegistries[${i}]`, host, /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) ? undefined : 'is not a registry host[:port]', 'Pass hosts such as "127.0.0.1:5000".');
    }
    for (const [i, p] of platforms.entries()) {
      c.check(`platforms[${i}]`, p, PLATFORM.test(p) ? undefined : 'is not a Linux platform Go builds static binaries for', 'Use os/arch[/variant] such as "linux/amd64", "linux/arm64" or "linux/arm/v7".');
      if (platforms.indexOf(p) !== i) c.fail(`platforms[${i}]`, p, 'is listed twice', 'List each platform once.');
    }

    // Stage the context only once the props are known good.
    let files: ContextFile[] = [];
    if (c.empty && source) {
      const read = readModuleFiles(moduleDir, source.kind === ModuleSourceKind.VENDOR);
      if (read.ok) files = read.files;
      else c.fail('moduleDir', props.moduleDir, read.problem, 'Replace the symlink with the file it points to, or move it out of the module.');
    }
    c.throwIfAny({ discard: true });
    const moduleSource = source as ModuleSource;

    this.binaryName = binaryName;
    this.buildMode = build;
    this.platforms = platforms;
    this.sbom = sbom;
    this.repositoryName = `${props.registry}/${props.repository}`;
    const user = `${GoService.NONROOT_UID}:${GoService.NONROOT_UID}`;
    const labels = props.labels ?? {};
    // The bases are not in cdk.tf.json as images: the kit lists them for the carry.
    for (const base of hostGo ? [runtime] : [builder, runtime]) {
      stack._recordImage({ target: base.resolve(props.mirror), source: base.reference, use: KitImageUse.BASE, neededBy: this.node.path, index: base.isPublishedIndex });
    }

    if (hostGo) {
      const built = stageAndBuildOnHost(this, stack, {
        files,
        repositoryName: this.repositoryName,
        tag: props.tag,
        kitCommand: kitCommandOf(build),
        spec: {
          mainPackage: mainArg,
          binary: binaryName,
          binaryDir: BINARY_DIR,
          env: Object.fromEntries(goBuildEnv(moduleSource).filter(([k]) => k !== 'CGO_ENABLED' && k !== 'GOTOOLCHAIN')),
          tags: buildTags,
          ldflags,
          runtime: runtime.resolve(props.mirror),
          platforms,
          repository: this.repositoryName,
          user,
          ports,
          labels: imageLabels(binaryName, epoch, runtime.resolve(props.mirror), labels),
          sourceDateEpoch: epoch,
          sbom,
          plainHttp: [...(build.kitOptions.plainHttpRegistries ?? [])],
        },
      });
      // No docker_image names it, so the kit learns of the build here: with its
      // platforms and SBOMs, so pack carries the whole index and checks them.
      stack._recordImage({
        target: `${this.repositoryName}:${built.tag}`,
        use: KitImageUse.BUILD,
        neededBy: this.node.path,
        digest: builtDigest(this, this.repositoryName, built.tag),
        index: platforms.length > 1,
        platforms,
        referrers: sbom ? [SPDX_MEDIA_TYPE] : undefined,
      });
      this.contextHash = built.contextHash;
      this.contextPath = built.contextPath;
      this.tag = built.tag;
      this.hostBuild = built.build;
      this.pushedImage = built.pushed;
      this.imageRef = built.imageRef;
      return;
    }

    this.dockerfile = renderDockerfile({
      builder: builder.resolve(props.mirror),
      runtime: runtime.resolve(props.mirror),
      binaryName,
      mainPackage: mainArg,
      moduleSource,
      hasGoSum: files.some((f) => f.path === 'go.sum'),
      ldflags,
      buildTags,
      ports,
      sourceDateEpoch: epoch,
      labels,
      user,
      cacheMounts: build.cacheMounts,
      logName: this.repositoryName.replace(/[^A-Za-z0-9._-]+/g, '_'),
    });
    this.dockerignore = renderDockerignore(moduleSource.kind === ModuleSourceKind.VENDOR);
    const staged: ContextFile[] = [
      ...files,
      { path: 'Dockerfile', mode: 0o644, content: Buffer.from(this.dockerfile) },
      { path: '.dockerignore', mode: 0o644, content: Buffer.from(this.dockerignore) },
    ];
    const built = stageAndPush(this, stack, {
      files: staged,
      repositoryName: this.repositoryName,
      tag: props.tag,
      networkMode: props.buildNetwork ?? (moduleSource.kind === ModuleSourceKind.PROXY ? 'host' : 'none'),
      buildArgs: { SOURCE_DATE_EPOCH: String(epoch) },
      keepRemotely: props.keepRemotely,
      builderVersion: build.engine === BuildEngine.DOCKER_BUILDKIT ? '2' : undefined,
    });
    this.contextHash = built.contextHash;
    this.contextPath = built.contextPath;
    this.tag = built.tag;
    this.dockerImage = built.image;
    this.registryImage = built.registryImage;
    this.imageRef = built.imageRef;
    if (sbom) {
      this.sbomStep = attachSbomAfterPush(this, {
        imageRef: built.imageRef,
        binaryPath: `${BINARY_DIR}/${binaryName}`,
        moduleDir: built.contextPath,
        base: runtime.resolve(props.mirror),
        sourceDateEpoch: epoch,
        plainHttp: build.kitOptions.plainHttpRegistries ?? [],
        kitCommand: kitCommandOf(build),
      });
      stack._recordImage({ target: `${this.repositoryName}:${built.tag}`, use: KitImageUse.BUILD, neededBy: this.node.path, referrers: [SPDX_MEDIA_TYPE] });
    }
  }
}

function kitCommandOf(build: GoImageBuild): string {
  return build.kitOptions.kitCommand ?? 'npx --no-install airgap-kit';
}
