import { App } from 'cdktf';
import { ImageStack, PreviewStack, providerVersionsFromEnv } from './examples/preview-app';

// Inputs come from the pipeline's environment, never from the clock, so synth is deterministic.
const env = process.env;
const app = new App();
// The versions the air-gapped provider mirror holds, when they differ from the bindings' pins.
const providerVersions = providerVersionsFromEnv(env);

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
});

new PreviewStack(app, 'preview', {
  branch: env.PREVIEW_BRANCH ?? 'main',
  // The digest the image stack pushed, passed across stacks by cdktf.
  image: images.hello.imageRef,
  createdAt: env.PREVIEW_CREATED_AT,
  baseDomain: env.PREVIEW_BASE_DOMAIN,
  // `false` for a control plane without nodes, where no Pod ever becomes ready.
  waitForRollout: env.PREVIEW_WAIT_FOR_ROLLOUT !== 'false',
  providerVersions,
  mirror: images.mirror && images.bundle ? { image: images.mirror.imageRef, bundle: images.bundle.bundle } : undefined,
});

app.synth();
