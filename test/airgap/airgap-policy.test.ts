import { Container } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { App, Testing, TerraformVariable } from 'cdktf';
import { AirgapPolicy, AirgapStack, GoService, PreviewEnvironment, RegistryMirror } from '../../lib';
import { dig, errorOf, onlyResource, resourcesOf, SynthJson, synthJson } from '../support/synth';
import { newStack } from '../support/synth';

const D = `sha256:${'f'.repeat(64)}`;
const MIRROR = RegistryMirror.of({
  'docker.io/library': 'registry.internal/library',
  'gcr.io/distroless': 'registry.internal/distroless',
  'registry.internal/team': 'registry.internal/team',
});

function synthError(app: App): string {
  return errorOf(() => app.synth());
}

describe('AirgapPolicy aspect', () => {
  test('rewrites public images to the mirror and keeps the digest', () => {
    const { stack } = newStack();
    AirgapPolicy.apply(stack, { mirror: MIRROR });
    new GoService(stack, 'api', { image: `docker.io/library/nginx:1.27@${D}` });
    const container = dig(onlyResource(synthJson(stack), 'kubernetes_deployment_v1'), 'spec.template.spec.container.0') as Record<string, unknown>;
    expect(container.image).toBe(`registry.internal/library/nginx:1.27@${D}`);
  });

  test('an unpinned image fails synth, naming the construct path and the image', () => {
    const { app, stack } = newStack();
    AirgapPolicy.apply(stack, { mirror: MIRROR });
    new GoService(stack, 'api', { image: 'docker.io/library/nginx:1.27' });
    new GoService(stack, 'web', { image: 'quay.io/team/web:2' });
    const message = synthError(app);
    expect(message).toContain('[test/api/Deployment] [AG1-pinned-by-digest] kubernetes_deployment_v1 field spec.template.spec.container.0.image: image "registry.internal/library/nginx:1.27" is not pinned by digest');
    expect(message).toContain('[test/web/Deployment] [AG2-allowed-registry] kubernetes_deployment_v1 field spec.template.spec.container.0.image: image "quay.io/team/web:2" is not from an allowed registry');
    expect(message).toContain('[test/web/Deployment] [AG1-pinned-by-digest]');
    expect(message).toContain('AirgapPolicy.suppress(construct, "AG1-pinned-by-digest", "<why>")');
  });

  test('a suppression with a reason exempts one construct, and only that one', () => {
    const { app, stack } = newStack();
    AirgapPolicy.apply(stack, { mirror: MIRROR });
    const api = new GoService(stack, 'api', { image: 'docker.io/library/nginx:1.27' });
    AirgapPolicy.suppress(api, 'AG1-pinned-by-digest', 'vendor ships only a moving tag; re-mirrored nightly');
    expect(() => app.synth()).not.toThrow();
    const infos = api.deployment.node.metadata.filter((m) => m.type === '@cdktf/info').map((m) => String(m.data));
    expect(infos).toEqual([expect.stringContaining('Suppressed: vendor ships only a moving tag')]);

    const second = newStack();
    AirgapPolicy.apply(second.stack, { mirror: MIRROR });
    const a = new GoService(second.stack, 'a', { image: 'docker.io/library/nginx:1.27' });
    new GoService(second.stack, 'b', { image: 'docker.io/library/nginx:1.27' });
    AirgapPolicy.suppress(a, 'AG1-pinned-by-digest', 'only a is exempt from pinning');
    const message = synthError(second.app);
    expect(message).toContain('[test/b/Deployment]');
    expect(message).not.toContain('[test/a/Deployment]');
  });

  test('suppressions need a real reason and a known rule', () => {
    const { stack } = newStack();
    const api = new GoService(stack, 'api', { image: `registry.internal/team/api@${D}` });
    expect(errorOf(() => AirgapPolicy.suppress(api, 'AG1-pinned-by-digest', 'because'))).toContain('test/api (AirgapPolicy): prop "suppress("AG1-pinned-by-digest").reason" is "because", which is shorter than 10 characters');
    expect(errorOf(() => AirgapPolicy.suppress(api, 'AG9', 'a long enough reason'))).toContain('prop "suppress().ruleId" is "AG9", which is not a rule id (AG2-allowed-registry, AG1-pinned-by-digest)');
  });

  test('a digest known only after apply (a GoImage imageRef) counts as pinned', () => {
    const { app, stack } = newStack();
    AirgapPolicy.apply(stack, { mirror: MIRROR });
    const digest = new TerraformVariable(stack, 'digest', { type: 'string' });
    new GoService(stack, 'api', { image: `registry.internal/team/hello@${digest.stringValue}` });
    expect(() => app.synth()).not.toThrow();
  });

  test('whole preview environments pass when their images are mirrored and pinned', () => {
    const { app, stack } = newStack();
    AirgapPolicy.apply(stack, { mirror: MIRROR });
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: '2026-11-21T10:00:00Z' });
    env.addService('hello', { image: `docker.io/library/hello@${D}` });
    expect(() => app.synth()).not.toThrow();
    expect(dig(onlyResource(synthJson(stack), 'kubernetes_deployment_v1'), 'spec.template.spec.container.0.image')).toBe(`registry.internal/library/hello@${D}`);
  });

  test('docker resources: pulled images and containers are rewritten; built and pushed names are only checked', () => {
    const app = Testing.app();
    const stack = new AirgapStack(app, 'docker');
    new DockerProvider(stack, 'docker', {});
    AirgapPolicy.apply(stack, { mirror: MIRROR });
    const pulled = new Image(stack, 'pulled', { name: `docker.io/library/redis:7@${D}` });
    new Container(stack, 'cache', { name: 'cache', image: pulled.imageId });
    new Container(stack, 'direct', { name: 'direct', image: `gcr.io/distroless/static-debian13:nonroot@${D}` });
    new Image(stack, 'built', { name: 'registry.internal/team/app:ctx-1', buildAttribute: { context: 'ctx' } });
    const json = JSON.parse(Testing.synth(stack)) as SynthJson;
    const names = resourcesOf(json, 'docker_image').map(([, r]) => r.name);
    expect(names).toEqual(expect.arrayContaining([`registry.internal/library/redis:7@${D}`, 'registry.internal/team/app:ctx-1']));
    const images = resourcesOf(json, 'docker_container').map(([, r]) => r.image);
    expect(images).toEqual(expect.arrayContaining([`registry.internal/distroless/static-debian13:nonroot@${D}`]));
    // A built image gets its digest at push, so only its registry is judged.
    expect(() => app.synth()).not.toThrow();
    const bad = new AirgapStack(Testing.app(), 'bad');
    new DockerProvider(bad, 'docker', {});
    AirgapPolicy.apply(bad, { mirror: MIRROR });
    new Image(bad, 'built', { name: 'ghcr.io/team/app:1', buildAttribute: { context: 'ctx' } });
    expect(synthError(bad.node.root as App)).toContain('[bad/built] [AG2-allowed-registry] docker_image field name: image "ghcr.io/team/app:1" is not from an allowed registry');
  });
});

describe('AirgapPolicy.apply', () => {
  test('refuses the App, where cdktf would never run it, and says what to do instead', () => {
    const app = Testing.app();
    new AirgapStack(app, 'images');
    new AirgapStack(app, 'preview');
    expect(errorOf(() => AirgapPolicy.apply(app, { mirror: MIRROR }))).toBe(
      'App (AirgapPolicy): prop "scope" is "App", which is not a stack or inside one, and cdktf runs aspects only from each stack down, so the rules would never run. Apply it to each stack instead, such as: for (const s of [images, preview]) AirgapPolicy.apply(s, props).',
    );
  });
});
