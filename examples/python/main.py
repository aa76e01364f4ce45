#!/usr/bin/env python3
"""main.ts (with examples/preview-app.ts) in Python, on cdktf 0.21.0 and the
prebuilt provider packages from PyPI.

Run it in this folder as `python3 main.py`; it writes
cdktf.out/stacks/{images,preview} (or one preview-<branch> stack per branch of
PREVIEW_BRANCHES), byte for byte what `npm run synth` writes
for the same environment. Inputs come from the environment, never from the
clock, so synth is deterministic.
"""

import json
import os
from typing import List, Mapping, NamedTuple, Optional, Sequence

from cdktf import App
from cdktf_cdktf_provider_docker.provider import DockerProvider, DockerProviderRegistryAuth
from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider
from constructs import Construct

from airgap_go_constructs import (
    AirgapStack,
    BaseImage,
    Duration,
    GoImage,
    GoImageBuild,
    GoServiceOptions,
    KubernetesStateBackend,
    OfflineBundle,
    OfflineBundleImage,
    OfflineMirror,
    PreviewEnvironment,
    PreviewIngressOptions,
    PreviewName,
    Probe,
    RegistryMirror,
)

# The example Go service's module.
HELLO_GO_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hello-go"))


class ImageStack(AirgapStack):
    """The image stack: hello-go built from the generated Dockerfile and pushed to the internal registry."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: str,
        plain_http_registry: bool,
        builder_digest: Optional[str],
        runtime_digest: Optional[str],
        source_date_epoch: Optional[int],
        provider_versions: Optional[Mapping[str, str]],
        bundle_dir: Optional[str],
        bundle_hash: str,
        platforms: Optional[Sequence[str]] = None,
        state_suffix: Optional[str] = None,
    ) -> None:
        super().__init__(scope, id, provider_versions=provider_versions)
        if state_suffix:
            KubernetesStateBackend(self, secret_suffix=state_suffix)
        # The provider reads DOCKER_HOST where Terraform runs; registry credentials
        # come from the operator's docker config unless the registry is plain HTTP.
        DockerProvider(
            self,
            "docker",
            registry_auth=[DockerProviderRegistryAuth(address=f"http://{registry}", auth_disabled=True)] if plain_http_registry else None,
        )
        # The stock bases, mirrored where the air-gapped side keeps them.
        builder = BaseImage.golang(digest=builder_digest)
        runtime = BaseImage.distroless_static(digest=runtime_digest)
        mirror = RegistryMirror.of({"docker.io/library": f"{registry}/library", "gcr.io/distroless": f"{registry}/distroless"})
        # With platforms, built ko-style with the host's Go, as one index with an SBOM per platform.
        self.hello = GoImage(
            self,
            "hello",
            module_dir=HELLO_GO_DIR,
            registry=registry,
            repository="examples/hello-go",
            labels={"org.opencontainers.image.source": "https://example.internal/airgap-go-constructs/examples/hello-go"},
            build_mode=GoImageBuild.host_go(plain_http_registries=[registry] if plain_http_registry else None) if platforms else None,
            platforms=list(platforms) if platforms else None,
            builder=None if platforms else builder,
            runtime=runtime,
            mirror=mirror,
            source_date_epoch=source_date_epoch,
        )
        self.mirror: Optional[GoImage] = None
        self.bundle: Optional[OfflineBundleImage] = None
        if bundle_dir:
            # The mirror is built by our own GoImage from the module the package ships.
            self.mirror = OfflineMirror.server_image(
                self,
                "mirror",
                registry=registry,
                labels={"org.opencontainers.image.source": "https://example.internal/airgap-go-constructs/mirror"},
                builder=builder,
                runtime=runtime,
                mirror=mirror,
                source_date_epoch=source_date_epoch,
            )
            self.bundle = OfflineBundleImage(self, "bundle", bundle_dir=bundle_dir, sha256sums_hash=bundle_hash, registry=registry, repository="airgap/go-bundle")


class PreviewStack(AirgapStack):
    """The preview stack: one preview environment running the hello-go service."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        branch: str,
        image: str,
        created_at: Optional[str],
        base_domain: Optional[str],
        wait_for_rollout: bool,
        provider_versions: Optional[Mapping[str, str]],
        mirror_image: Optional[str],
        mirror_bundle: Optional[OfflineBundle],
        state_suffix: Optional[str] = None,
    ) -> None:
        super().__init__(scope, id, provider_versions=provider_versions)
        if state_suffix:
            # State in the cluster, under the stack's own key.
            KubernetesStateBackend(self, secret_suffix=state_suffix, labels={"airgap-go-constructs.io/preview": "true"})
        # No arguments: the provider reads KUBE_CONFIG_PATH and friends on the
        # operator's side of the gap, so no path of the synth machine is baked in.
        KubernetesProvider(self, "kubernetes")
        self.environment = PreviewEnvironment(
            self,
            "Preview",
            branch=branch,
            created_at=created_at,
            ttl=Duration.hours(72),
            ingress=PreviewIngressOptions(base_domain=base_domain or "preview.example.internal"),
        )
        self.hello = self.environment.add_service(
            "hello",
            GoServiceOptions(
                image=image,
                port=8080,
                replicas=2,
                wait_for_rollout=wait_for_rollout,
                env={"LOG_FORMAT": "json"},
                liveness=Probe.http("/healthz"),
                readiness=Probe.http("/readyz", period=Duration.seconds(5)),
            ),
            ingress_path="/",
        )
        if mirror_image and mirror_bundle:
            self.hello.add_extension(OfflineMirror(self, "GoMirror", image=mirror_image, bundle=mirror_bundle))


def provider_versions_from_env(env: Mapping[str, str]) -> Optional[Mapping[str, str]]:
    """Provider versions from KUBERNETES_PROVIDER_VERSION and DOCKER_PROVIDER_VERSION, if any."""
    versions = {}
    if env.get("KUBERNETES_PROVIDER_VERSION"):
        versions["kubernetes"] = env["KUBERNETES_PROVIDER_VERSION"]
    if env.get("DOCKER_PROVIDER_VERSION"):
        versions["docker"] = env["DOCKER_PROVIDER_VERSION"]
    return versions or None


class PreviewBranch(NamedTuple):
    """One branch of a preview fleet."""

    branch: str
    created_at: Optional[str]
    stack_id: str


def preview_branches_from_env(env: Mapping[str, str]) -> Optional[List[PreviewBranch]]:
    """PREVIEW_BRANCHES_FILE (a JSON list) or PREVIEW_BRANCHES (comma-separated), as main.ts reads them; None for one stack."""
    if env.get("PREVIEW_BRANCHES_FILE"):
        with open(env["PREVIEW_BRANCHES_FILE"], encoding="utf-8") as f:
            entries = [e if isinstance(e, dict) else {"branch": e} for e in json.load(f)]
    elif "PREVIEW_BRANCHES" in env:
        entries = [{"branch": b.strip(), "createdAt": env.get("PREVIEW_CREATED_AT")} for b in env["PREVIEW_BRANCHES"].split(",")]
    else:
        return None
    out: List[PreviewBranch] = []
    for i, e in enumerate(entries):
        stack_id = PreviewName.dns_label(e["branch"], prefix="preview-")
        if any(b.stack_id == stack_id for b in out):
            raise ValueError(f"preview branch [{i}] {e['branch']!r} gives the stack {stack_id} twice; list each branch once")
        out.append(PreviewBranch(e["branch"], e.get("createdAt"), stack_id))
    return out


def main() -> None:
    env = os.environ
    app = App()
    provider_versions = provider_versions_from_env(env)
    # A fleet: one preview stack per branch, state in the cluster (the image stack's too, so any runner reads its digests).
    fleet = preview_branches_from_env(env)
    images = ImageStack(
        app,
        "images",
        registry=env.get("AIRGAP_REGISTRY", "127.0.0.1:5000"),
        # The default is the local test registry, which speaks plain HTTP.
        plain_http_registry="AIRGAP_REGISTRY" not in env or env.get("AIRGAP_REGISTRY_PLAIN_HTTP") == "1",
        builder_digest=env.get("BUILDER_DIGEST"),
        runtime_digest=env.get("RUNTIME_DIGEST"),
        source_date_epoch=int(env["SOURCE_DATE_EPOCH"]) if env.get("SOURCE_DATE_EPOCH") else None,
        provider_versions=provider_versions,
        # An offline bundle made by `npm run bundle`: adds the mirror sidecar to hello-go.
        bundle_dir=env.get("OFFLINE_BUNDLE_DIR") or None,
        bundle_hash=env.get("OFFLINE_BUNDLE_SHA256SUMS_HASH", ""),
        # GO_IMAGE_PLATFORMS=linux/amd64,linux/arm64: hello-go is built ko-style with the host's Go.
        platforms=env["GO_IMAGE_PLATFORMS"].split(",") if env.get("GO_IMAGE_PLATFORMS") else None,
        state_suffix="images" if fleet is not None else None,
    )
    def preview(id: str, branch: str, created_at: Optional[str], state_suffix: Optional[str] = None) -> PreviewStack:
        return PreviewStack(
            app,
            id,
            branch=branch,
            # The digest the image stack pushed, passed across stacks by cdktf.
            image=images.hello.image_ref,
            created_at=created_at,
            base_domain=env.get("PREVIEW_BASE_DOMAIN"),
            # `false` for a control plane without nodes, where no Pod ever becomes ready.
            wait_for_rollout=env.get("PREVIEW_WAIT_FOR_ROLLOUT") != "false",
            provider_versions=provider_versions,
            mirror_image=images.mirror.image_ref if images.mirror and images.bundle else None,
            mirror_bundle=images.bundle.bundle if images.mirror and images.bundle else None,
            state_suffix=state_suffix,
        )

    if fleet is not None:
        # One stack per branch, each with its state in the cluster under its own key, sharing the image stack.
        for b in fleet:
            preview(b.stack_id, b.branch, b.created_at, state_suffix=b.stack_id)
    else:
        preview("preview", env.get("PREVIEW_BRANCH", "main"), env.get("PREVIEW_CREATED_AT"))
    app.synth()


if __name__ == "__main__":
    main()
