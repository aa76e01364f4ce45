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
  build.addOverride('provisioner', [
    {
      'local-exec': {
        command: `$\${AIRGAP_KIT:-${options.kitCommand}} build-image -spec ${specPath} -tag ${tag}`,
        working_dir: '${path.module}',
      },
    },
  ]);
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
