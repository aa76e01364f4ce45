import { App } from 'cdktf';
import { ImageStack, previewBranchesFromEnv, PreviewStack, providerVersionsFromEnv } from './examples/preview-app';

// Inputs come from the pipeline's environment, never from the clock, so synth is deterministic.
const env = process.env;
const app = new App();
// The versions the air-gapped provider mirror holds, when they differ from the bindings' pins.
const providerVersions = providerVersionsFromEnv(env);
// A fleet: PREVIEW_BRANCHES=feature/a,PR-42 (or PREVIEW_BRANCHES_FILE=branches.json) gives one
// stack per branch, each with its state in the cluster under its own key, all sharing the image
// stack, whose state is in the cluster too, so any runner reads its digests.
const fleet = previewBranchesFromEnv(env);

const images = new ImageStack(app, 'images', {
  registry: env.AIRGAP_REGISTRY ?? '127.0.0.1:5000',
  // The default is the local test registry, which speaks plain HTTP.
  plainHttpRegistry: env.AIRGAP_REGISTRY === undefined || env.AIRGAP_REGISTRY_PLAIN_HTTP === '1',
  builderDigest: env.BUILDER_DIGEST,
  runtimeDigest: env.RUNTIME_DIGEST,
  sourceDateEpoch: env.SOURCE_DATE_EPOCH ? Number(env.SOURCE_DATE_EPOCH) : undefined,
  providerVersions,
  // GO_IMAGE_PLATFORMS=linux/amd64,linux/arm64: hello-go is built ko-style with the host's Go, as one index with SBOMs.
  hostGo: env.GO_IMAGE_PLATFORMS ? { platforms: env.GO_IMAGE_PLATFORMS.split(',') } : undefined,
  // An offline bundle made by `npm run bundle`: adds the mirror sidecar to hello-go.
  bundle: env.OFFLINE_BUNDLE_DIR ? { dir: env.OFFLINE_BUNDLE_DIR, sha256sumsHash: env.OFFLINE_BUNDLE_SHA256SUMS_HASH ?? '' } : undefined,
  stateInCluster: fleet ? { secretSuffix: 'images' } : undefined,
});

const previewOptions = {
  // The digest the image stack pushed, passed across stacks by cdktf.
  image: images.hello.imageRef,
  baseDomain: env.PREVIEW_BASE_DOMAIN,
  // `false` for a control plane without nodes, where no Pod ever becomes ready.
  waitForRollout: env.PREVIEW_WAIT_FOR_ROLLOUT !== 'false',
  providerVersions,
  mirror: images.mirror && images.bundle ? { image: images.mirror.imageRef, bundle: images.bundle.bundle } : undefined,
};

if (fleet) {
  for (const b of fleet) {
    new PreviewStack(app, b.stackId, {
      ...previewOptions,
      branch: b.branch,
      createdAt: b.createdAt,
      stateInCluster: { secretSuffix: b.stackId, labels: { 'airgap-go-constructs.io/preview': 'true' } },
    });
  }
} else {
  new PreviewStack(app, 'preview', { ...previewOptions, branch: env.PREVIEW_BRANCH ?? 'main', createdAt: env.PREVIEW_CREATED_AT });
}

app.synth();
