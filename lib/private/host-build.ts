import { DataDockerRegistryImage } from '@cdktf/provider-docker/lib/data-docker-registry-image';
import { DataResource } from 'cdktf';
import { Construct } from 'constructs';
import { AirgapStack } from '../stack/airgap-stack';
import { ContextFile } from './build-context';
import { pinnedRef, stageContext } from './context-image';

/** The spec `airgap-kit build-image` reads (kit/internal/build/spec.go), format 1. */
export interface HostBuildSpec {
  readonly formatVersion: 1;
  readonly module: string;
  readonly mainPackage: string;
  readonly binary: string;
  readonly binaryDir: string;
  readonly env: { readonly [name: string]: string };
  readonly tags: readonly string[];
  readonly ldflags: readonly string[];
  readonly runtime: string;
  readonly platforms: readonly string[];
  readonly repository: string;
  readonly user: string;
  readonly ports: readonly number[];
  readonly labels: { readonly [key: string]: string };
  readonly sourceDateEpoch: number;
  readonly sbom: boolean;
  readonly plainHttp: readonly string[];
}

/** What {@link stageAndBuildOnHost} needs. */
export interface HostBuildOptions {
  /** The module's files. */
  readonly files: readonly ContextFile[];
  /** `<registry>/<repository>`. */
  readonly repositoryName: string;
  /** Tag to push; absent means `ctx-<12 hex of the staged hash>`. */
  readonly tag?: string;
  /** The spec, but for the module folder (the spec sits in it). */
  readonly spec: Omit<HostBuildSpec, 'module' | 'formatVersion'>;
  /** How to run airgap-kit where tofu runs. */
  readonly kitCommand: string;
}

/** The staged module and the resources that build it and read its digest back. */
export interface HostBuiltImage {
  readonly contextHash: string;
  readonly contextPath: string;
  readonly tag: string;
  readonly build: DataResource;
  readonly pushed: DataDockerRegistryImage;
  readonly imageRef: string;
}

/**
 * Runs airgap-kit with `args` from the stack folder when `resource` is created.
 * `$${…}` is a literal `${…}` for Terraform: the shell expands AIRGAP_KIT where
 * tofu runs. Every argument is a validated path, reference or flag.
 */
function runKitAtApply(resource: DataResource, kitCommand: string, args: readonly string[]): void {
  resource.addOverride('provisioner', [{ 'local-exec': { command: `$\${AIRGAP_KIT:-${kitCommand}} ${args.join(' ')}`, working_dir: '${path.module}' } }]);
}

/** What {@link attachSbomAfterPush} needs. */
export interface SbomStepOptions {
  /** `<repo>@<digest>`: the push's digest (a reference Terraform resolves) or a pinned one. */
  readonly imageRef: string;
  /** The binary's absolute path in the image. */
  readonly binaryPath: string;
  /** The staged module (with go.sum), relative to the stack folder. */
  readonly moduleDir: string;
  /** The runtime base, pinned. */
  readonly base: string;
  readonly sourceDateEpoch: number;
  readonly plainHttp: readonly string[];
  readonly kitCommand: string;
}

/**
 * A `terraform_data`, replaced with each new digest, whose local-exec runs
 * `airgap-kit sbom` on the pushed image: the SBOM of a Dockerfile build.
 */
export function attachSbomAfterPush(scope: Construct, options: SbomStepOptions): DataResource {
  const step = new DataResource(scope, 'Sbom', { triggersReplace: { image: options.imageRef } });
  const args = ['sbom', '-image', options.imageRef, '-binary', options.binaryPath, '-module', options.moduleDir, '-base', options.base, '-created', String(options.sourceDateEpoch)];
  for (const host of options.plainHttp) args.push('-plain-http', host);
  runKitAtApply(step, options.kitCommand, args);
  return step;
}

/** The artifact type of the SBOMs airgap-kit build-image attaches. */
export const SPDX_MEDIA_TYPE = 'application/spdx+json';

/** Name of the spec file in the staged module. */
export const HOST_BUILD_SPEC = 'airgap-build.json';

/**
 * Stages the module with its build spec and adds a `terraform_data` whose
 * local-exec runs `airgap-kit build-image` (replaced when the staged hash
 * changes), then reads the pushed tag's digest back with the docker
 * provider's `docker_registry_image` data source. That read waits for the
 * build when it is replaced, and runs at plan otherwise, so an unchanged
 * module plans no change.
 */
export function stageAndBuildOnHost(scope: Construct, stack: AirgapStack, options: HostBuildOptions): HostBuiltImage {
  // The tag is not in the spec but on the command line: the default tag derives from the staged hash.
  const spec: HostBuildSpec = { formatVersion: 1, module: '.', ...options.spec };
  const staged = stageContext(scope, stack, [...options.files, { path: HOST_BUILD_SPEC, mode: 0o644, content: Buffer.from(JSON.stringify(spec, null, 2) + '\n') }], options.tag);
  const tag = staged.tag;
  const specPath = `${staged.contextPath}/${HOST_BUILD_SPEC}`;
  const build = new DataResource(scope, 'Build', {
    triggersReplace: { context_sha256: staged.hash, target: `${options.repositoryName}:${tag}` },
    input: { target: `${options.repositoryName}:${tag}` },
  });
  // $${…} is a literal ${…} for Terraform: the shell expands AIRGAP_KIT where tofu runs.
  runKitAtApply(build, options.kitCommand, ['build-image', '-spec', specPath, '-tag', tag]);
  const pushed = new DataDockerRegistryImage(scope, 'Pushed', {
    name: `${options.repositoryName}:${tag}`,
    dependsOn: [build],
  });
  return {
    contextHash: staged.hash,
    contextPath: staged.contextPath,
    tag,
    build,
    pushed,
    imageRef: pinnedRef(scope, options.repositoryName, tag, pushed.sha256Digest),
  };
}
