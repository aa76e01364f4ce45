/** The engine behind the docker provider, for {@link GoImageBuild.dockerfile}. */
export enum BuildEngine {
  /**
   * Podman's Docker-compatible API (4.3 and newer): its builder keeps
   * `RUN --mount=type=cache` caches across builds, so a source-only change
   * recompiles only the changed packages.
   */
  PODMAN = 'podman',
  /**
   * Docker Engine with BuildKit (`build.version = "2"`): honors the same cache
   * mounts. Not exercised by our tests (no Docker daemon here).
   */
  DOCKER_BUILDKIT = 'docker-buildkit',
  /**
   * Docker's legacy builder, which refuses `--mount` ("the --mount option
   * requires BuildKit"): the Dockerfile has no cache mounts, so every rebuild
   * compiles everything. The documented slow fallback.
   */
  DOCKER_LEGACY = 'docker-legacy',
}

/** How a GoImage is built. */
export enum GoImageBuildKind {
  /** The generated multi-stage Dockerfile, built by the docker provider's engine. */
  DOCKERFILE = 'dockerfile',
  /** ko-style: the host's `go build`, one layer on the pinned base, pushed by airgap-kit. */
  HOST_GO = 'host-go',
}

/** How airgap-kit runs where `tofu apply` runs, for the steps it does (hostGo builds, SBOMs). */
export interface KitCommandOptions {
  /**
   * Registry hosts (with port) spoken to over plain HTTP, such as a loopback
   * test registry. Everything else is HTTPS with the docker config's credentials.
   * @default - none
   */
  readonly plainHttpRegistries?: string[];
  /**
   * The command that runs airgap-kit where `tofu apply` runs. The variable
   * AIRGAP_KIT, when set there, overrides it (such as the static airgap-kit
   * that `airgap-kit pack` carries across the gap).
   * @default 'npx --no-install airgap-kit' (this package's command, from the app's node_modules)
   */
  readonly kitCommand?: string;
}

/** Options for {@link GoImageBuild.dockerfile}. */
export interface DockerfileBuildOptions extends KitCommandOptions {
  /**
   * The engine the docker provider talks to.
   * @default BuildEngine.PODMAN
   */
  readonly engine?: BuildEngine;
}

/** Options for {@link GoImageBuild.hostGo}. */
export interface HostGoBuildOptions extends KitCommandOptions {}

/**
 * How GoImage builds, as a choice of static factories.
 *
 * | mode | engines | platforms | one digest per source | warm rebuild | SBOM |
 * | --- | --- | --- | --- | --- | --- |
 * | `dockerfile()` (default) | podman, Docker with BuildKit, Docker legacy (no cache) | the engine's own | no: the engine stamps times and ids | cached compile (not on Docker legacy) | with `sbom: true`, read from the pushed image by airgap-kit |
 * | `hostGo()` | none: Go 1.26+ and airgap-kit where `tofu apply` runs | any, as one index | yes | cached compile | on by default |
 */
export class GoImageBuild {
  /**
   * The generated multi-stage Dockerfile, built and pushed through the docker
   * provider (`docker_image` and `docker_registry_image`), with Go build and
   * module cache mounts where the engine supports them.
   */
  static dockerfile(options: DockerfileBuildOptions = {}): GoImageBuild {
    return new GoImageBuild(GoImageBuildKind.DOCKERFILE, options.engine ?? BuildEngine.PODMAN, { plainHttpRegistries: options.plainHttpRegistries, kitCommand: options.kitCommand });
  }

  /**
   * The reproducible, multi-platform mode, in the manner of ko: at apply,
   * `airgap-kit build-image` runs the host's `go build` (with its build cache)
   * for each platform, appends one layer with the binary onto the pinned
   * runtime base with go-containerregistry, pushes one index by digest and
   * attaches each platform's SPDX SBOM as an OCI referrer. No engine and no
   * builder image are involved; the same source gives the same digest.
   */
  static hostGo(options: HostGoBuildOptions = {}): GoImageBuild {
    return new GoImageBuild(GoImageBuildKind.HOST_GO, undefined, options);
  }

  private constructor(
    /** Which mode. */
    public readonly kind: GoImageBuildKind,
    /** The engine, for DOCKERFILE. */
    public readonly engine: BuildEngine | undefined,
    /** How airgap-kit runs at apply. */
    public readonly kitOptions: KitCommandOptions,
  ) {}

  /** Whether the Dockerfile may use `RUN --mount=type=cache`. */
  get cacheMounts(): boolean {
    return this.kind === GoImageBuildKind.DOCKERFILE && this.engine !== BuildEngine.DOCKER_LEGACY;
  }
}
