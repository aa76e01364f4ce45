import { existsSync } from 'fs';
import { basename, isAbsolute, join, posix, resolve } from 'path';
import { Image } from '@cdktf/provider-docker/lib/image';
import { RegistryImage } from '@cdktf/provider-docker/lib/registry-image';
import { Construct } from 'constructs';
import { AirgapStack } from '../stack/airgap-stack';
import { BaseImage } from './base-image';
import { ContextFile, readModuleFiles } from '../private/build-context';
import { stageAndPush } from '../private/context-image';
import { renderDockerfile, renderDockerignore } from '../private/dockerfile';
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
   * Builder stage base.
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

const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const BUILD_TAG = /^[A-Za-z0-9_.]+$/;
const SAFE_LDFLAG = /^[^\s"'`$\\]+$/;

/**
 * A distroless, nonroot, reproducible image of a Go module, built and pushed
 * through the docker provider.
 *
 * At synth the module's files (no VCS, tests or testdata) are staged with a
 * generated Dockerfile and .dockerignore under the stack's `assets/` folder,
 * so the build context crosses the gap with the Terraform. The stage's content
 * hash is the `docker_image` trigger: an unchanged tree never rebuilds, any
 * change does. `imageRef` is `<registry>/<repo>@<registry digest>`, ready for
 * GoService.
 */
export class GoImage extends Construct {
  /** The generated Dockerfile text. */
  public readonly dockerfile: string;
  /** The generated .dockerignore text. */
  public readonly dockerignore: string;
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
  /** The docker_image build (escape hatch). */
  public readonly dockerImage: Image;
  /** The docker_registry_image push (escape hatch). */
  public readonly registryImage: RegistryImage;
  /** `<registry>/<repository>@sha256:…`, known after apply; pass it to GoService's `image`. */
  public readonly imageRef: string;

  constructor(scope: Construct, id: string, props: GoImageProps) {
    super(scope, id);
    const stack = AirgapStack.enclosing(this, 'GoImage');
    const c = new PropChecker(this, 'GoImage');
    const moduleDir = resolve(props.moduleDir);
    const mainPackage = props.mainPackage ?? '.';
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
    // The bases are not in cdk.tf.json as images: the kit lists them for the carry.
    for (const base of [builder, runtime]) {
      stack._recordImage({ target: base.resolve(props.mirror), source: base.reference, use: KitImageUse.BASE, neededBy: this.node.path, index: base.isPublishedIndex });
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
      labels: props.labels ?? {},
      user: `${GoService.NONROOT_UID}:${GoService.NONROOT_UID}`,
    });
    this.dockerignore = renderDockerignore(moduleSource.kind === ModuleSourceKind.VENDOR);
    const staged: ContextFile[] = [
      ...files,
      { path: 'Dockerfile', mode: 0o644, content: Buffer.from(this.dockerfile) },
      { path: '.dockerignore', mode: 0o644, content: Buffer.from(this.dockerignore) },
    ];
    this.repositoryName = `${props.registry}/${props.repository}`;
    const built = stageAndPush(this, stack, {
      files: staged,
      repositoryName: this.repositoryName,
      tag: props.tag,
      networkMode: props.buildNetwork ?? (moduleSource.kind === ModuleSourceKind.PROXY ? 'host' : 'none'),
      buildArgs: { SOURCE_DATE_EPOCH: String(epoch) },
      keepRemotely: props.keepRemotely,
    });
    this.contextHash = built.contextHash;
    this.contextPath = built.contextPath;
    this.tag = built.tag;
    this.dockerImage = built.image;
    this.registryImage = built.registryImage;
    this.imageRef = built.imageRef;
  }
}
