import { App } from 'cdktf';
import { PLACEHOLDER_IMAGE, PreviewStack } from './examples/preview-app';

// Inputs come from the pipeline, never from the clock, so synth is deterministic.
const app = new App();
const image = (app.node.tryGetContext('image') as string | undefined) ?? process.env.PREVIEW_IMAGE ?? PLACEHOLDER_IMAGE;

new PreviewStack(app, 'preview', {
  branch: process.env.PREVIEW_BRANCH ?? 'main',
  image,
  createdAt: process.env.PREVIEW_CREATED_AT,
  baseDomain: process.env.PREVIEW_BASE_DOMAIN,
});

app.synth();
