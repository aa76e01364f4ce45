import { existsSync, readFileSync } from 'fs';
import { posix, join, resolve } from 'path';
import { Image } from '@cdktf/provider-docker/lib/image';
import { RegistryImage } from '@cdktf/provider-docker/lib/registry-image';
import { Construct } from 'constructs';
import { AirgapStack } from '../stack/airgap-stack';
import { ContextFile, contextHash, writeContext } from './build-context';
import { AirgapError } from '../core/errors';

/** What {@link stageAndPush} needs: a finished build context and where the image goes. */
export interface StageAndPushOptions {
  /** The context's files, the Dockerfile among them. */
  readonly files: readonly ContextFile[];
  /** `<registry>/<repository>`. */
  readonly repositoryName: string;
  /** Tag to build and push; absent means `ctx-<12 hex of the context hash>`. */
  readonly tag?: string;
  /** Build network: `none` unless the build must reach a module proxy. */
  readonly networkMode: string;
  /** Build arguments. */
  readonly buildArgs?: { readonly [name: string]: string };
  /** Leave the pushed tag in the registry on destroy. */
  readonly keepRemotely?: boolean;
  /** `build.version`: "2" asks Docker Engine for BuildKit. */
  readonly builderVersion?: string;
}

/** The staged context and the provider resources that build and push it. */
export interface StagedImage {
  /** sha256 of the staged context. */
  readonly contextHash: string;
  /** The staged context's path, relative to the stack directory. */
  readonly contextPath: string;
  /** The tag built and pushed. */
  readonly tag: string;
  /** The docker_image build. */
  readonly image: Image;
  /** The docker_registry_image push. */
  readonly registryImage: RegistryImage;
  /** `<registry>/<repository>@sha256:…`, known after apply. */
  readonly imageRef: string;
}

/**
 * Stages `files` under the stack's `assets/<logical id>/<hash>` (so the
 * context crosses the gap with the Terraform) and adds a `docker_image` build
 * and a `docker_registry_image` push, both triggered by the context hash: an
 * unchanged context never rebuilds, any change does.
 */
export function stageAndPush(scope: Construct, stack: AirgapStack, options: StageAndPushOptions): StagedImage {
  const { hash, tag, contextPath } = stageContext(scope, stack, options.files, options.tag);
  const triggers = { context_sha256: hash };
  const image = new Image(scope, 'Image', {
    name: `${options.repositoryName}:${tag}`,
    keepLocally: false,
    triggers,
    buildAttribute: {
      // Resolved by Terraform where it runs, so no path of the synth machine is written.
      context: `\${abspath(path.module)}/${contextPath}`,
      dockerfile: 'Dockerfile',
      networkMode: options.networkMode,
      buildArgs: options.buildArgs ? { ...options.buildArgs } : undefined,
      label: { 'org.opencontainers.image.ref.name': tag },
      remove: true,
      forceRemove: true,
      version: options.builderVersion,
    },
  });
  // kreuzwerker/docker 4.x builds through buildx by default, which needs a
  // BuildKit image from Docker Hub: impossible in an air gap, and absent from
  // podman's Docker API. The 3.x bindings lack the switch, hence the override.
  const dockerPin = stack.pinnedProviderVersion('docker');
  if (dockerPin !== undefined && Number(dockerPin.split('.')[0]) >= 4) {
    image.addOverride('build.use_legacy_builder', true);
  }
  const registryImage = new RegistryImage(scope, 'Push', {
    name: image.name,
    keepRemotely: options.keepRemotely ?? false,
    triggers,
  });
  const imageRef = pinnedRef(scope, options.repositoryName, tag, registryImage.sha256Digest);
  return { contextHash: hash, contextPath, tag, image, registryImage, imageRef };
}

/** A staged build context: its hash, the tag it is pushed under and its path in the stack. */
export interface StagedContext {
  /** sha256 of the files. */
  readonly hash: string;
  /** The tag: the given one, or `ctx-<12 hex of the hash>`. */
  readonly tag: string;
  /** The context's path, relative to the stack directory. */
  readonly contextPath: string;
}

/**
 * Writes `files` under the stack's `assets/<logical id>/<hash>` at synth, so
 * the context crosses the gap with the Terraform.
 */
export function stageContext(scope: Construct, stack: AirgapStack, files: readonly ContextFile[], tag?: string): StagedContext {
  const hash = contextHash(files);
  const assetDir = posix.join('assets', stack.getLogicalId(scope.node));
  const contextPath = posix.join(assetDir, hash.slice(0, 16));
  stack.addArtifact({
    writeTo: (stackDir: string) => {
      writeContext(join(stackDir, assetDir), []);
      writeContext(join(stackDir, contextPath), files);
    },
  });
  return { hash, tag: tag ?? `ctx-${hash.slice(0, 12)}`, contextPath };
}

/**
 * `<repository>@<digest>`: the digest this very context was pushed with on the
 * connected side when synth knows it (built outside the gap: the reference is
 * literal, and the stacks that run it need nothing from this one), else the
 * digest the push reports at apply.
 */
export function pinnedRef(scope: Construct, repositoryName: string, tag: string, liveDigest: string): string {
  return `${repositoryName}@${builtDigest(scope, repositoryName, tag) ?? liveDigest}`;
}

/** The digest `repository:tag` was pushed with on the connected side, when synth was given it. */
export function builtDigest(scope: Construct, repositoryName: string, tag: string): string | undefined {
  return builtImages(scope)?.[`${repositoryName}:${tag}`];
}

/**
 * The file is named by the context key `airgap-go-constructs:builtImages`
 * or the environment variable AIRGAP_BUILT_IMAGES.
 *
 * The digests images were built and pushed with on the connected side, from
 * the file `airgap-kit built-images` wrote, by `registry/repo:tag`.
 */
function builtImages(scope: Construct): { readonly [target: string]: string } | undefined {
  const path = (scope.node.tryGetContext(AirgapStack.CONTEXT_BUILT_IMAGES) as string | undefined) ?? (process.env.AIRGAP_BUILT_IMAGES || undefined);
  if (path === undefined) return undefined;
  const full = resolve(path);
  const fail = (problem: string) =>
    new AirgapError(scope.node.path, 'built images', [
      { prop: AirgapStack.CONTEXT_BUILT_IMAGES, value: path, problem, fix: 'Write it with `airgap-kit built-images -o FILE` after applying the image stack on the connected side, or unset it to build inside the gap.' },
    ]);
  if (!existsSync(full)) throw fail('is not a file');
  let parsed: { formatVersion?: unknown; images?: unknown };
  try {
    parsed = JSON.parse(readFileSync(full, 'utf8')) as { formatVersion?: unknown; images?: unknown };
  } catch {
    throw fail('is not JSON');
  }
  const images = parsed.images;
  if (parsed.formatVersion !== 1 || images === null || typeof images !== 'object') throw fail('is not a format 1 built-images file');
  for (const [target, digest] of Object.entries(images as Record<string, unknown>)) {
    if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw fail(`has the digest ${JSON.stringify(digest)} for ${target}, which is not sha256:<64 hex>`);
  }
  return images as { readonly [target: string]: string };
}
