import { Container } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { App, Testing, TerraformVariable } from 'cdktf';
import { readFileSync } from 'fs';
import { join } from 'path';
import { AirgapPolicy, AirgapRules, AirgapStack, GoService, IAirgapRule, PreviewEnvironment, RegistryMirror, RuleOutcome } from '../../lib';
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
    expect(errorOf(() => AirgapPolicy.suppress(api, 'AG 9', 'a long enough reason'))).toContain('prop "suppress().ruleId" is "AG 9", which is not a rule id. Use the id printed in the synth error, such as "AG1-pinned-by-digest".');
    // An id no policy over the construct applies is a synth error, not a silent no-op.
    const { app, stack: s2 } = newStack();
    AirgapPolicy.apply(s2, { mirror: MIRROR });
    const web = new GoService(s2, 'web', { image: `registry.internal/team/web@${D}` });
    AirgapPolicy.suppress(web, 'AG9-typo', 'a long enough reason');
    const message = synthError(app);
    expect(message).toContain('[test/web] suppression names rule "AG9-typo", which no policy over test/web applies (its rules: PS1-host-namespaces, ');
    expect(message).toContain('AG2-allowed-registry, AG1-pinned-by-digest, AG3-pull-policy, HY1-resources');
    expect(message).toContain('). Fix: use one of those ids, or remove the suppression.');
  });

  test('a custom rule can be suppressed, and the suppression and finding reach construct metadata', () => {
    const noLatest: IAirgapRule = {
      id: 'ORG1-no-latest',
      description: 'no image is tagged latest',
      judgesBuildTargets: false,
      evaluate: (use) => (use.literal.includes(':latest@') ? { outcome: RuleOutcome.NON_COMPLIANT, reason: 'is tagged latest' } : { outcome: RuleOutcome.COMPLIANT }),
    };
    const { app, stack } = newStack();
    AirgapPolicy.apply(stack, { mirror: MIRROR, rules: [...AirgapRules.all(), noLatest] });
    const api = new GoService(stack, 'api', { image: `registry.internal/team/api:latest@${D}` });
    const web = new GoService(stack, 'web', { image: `registry.internal/team/web:latest@${D}` });
    AirgapPolicy.suppress(api, 'ORG1-no-latest', 'the vendor publishes only latest; digest pinned');
    const message = synthError(app);
    expect(message).toContain('[test/web/Deployment] [ORG1-no-latest] kubernetes_deployment_v1 field spec.template.spec.container.0.image: image "registry.internal/team/web:latest@');
    expect(message).not.toContain('[test/api/Deployment]');
    expect(api.node.metadata.filter((m) => m.type === 'airgap-go-constructs:suppression').map((m) => m.data)).toEqual([{ rule: 'ORG1-no-latest', reason: 'the vendor publishes only latest; digest pinned' }]);
    const findings = web.deployment.node.metadata.filter((m) => m.type === 'airgap-go-constructs:finding').map((m) => m.data as { rule: string; message: string });
    expect(findings).toEqual([expect.objectContaining({ rule: 'ORG1-no-latest', level: 'error', pack: 'airgap', message: expect.stringMatching(/^image "registry.internal\/team\/web:latest@sha256:f+" is tagged latest$/) })]);
    const suppressed = api.deployment.node.metadata.filter((m) => m.type === 'airgap-go-constructs:finding').map((m) => m.data);
    expect(suppressed).toEqual([expect.objectContaining({ rule: 'ORG1-no-latest', suppressedBecause: 'the vendor publishes only latest; digest pinned', suppressedAt: 'test/api' })]);
  });

  test('idempotent: a target inside its own source is not rewritten again, and two synths give the same bytes', () => {
    const mirror = RegistryMirror.of({ 'registry.internal': 'registry.internal/cache', 'docker.io': 'registry.internal/cache/docker.io' });
    const { stack } = newStack();
    AirgapPolicy.apply(stack, { mirror });
    new GoService(stack, 'api', { image: `docker.io/library/nginx@${D}` });
    new GoService(stack, 'own', { image: `registry.internal/team/own@${D}` });
    const first = Testing.synth(stack);
    const second = Testing.synth(stack);
    expect(second).toBe(first);
    const images = resourcesOf(JSON.parse(first) as SynthJson, 'kubernetes_deployment_v1').map(([, r]) => dig(r, 'spec.template.spec.container.0.image'));
    expect(images.sort()).toEqual([`registry.internal/cache/docker.io/library/nginx@${D}`, `registry.internal/cache/team/own@${D}`]);
    expect(first).not.toContain('cache/cache');
  });

  test('the mirror map, allowed registries and rules are validated when the policy is applied, with their own message', () => {
    const { stack } = newStack();
    expect(errorOf(() => AirgapPolicy.apply(stack, { mirror: RegistryMirror.of({ 'docker.io': 'Registry.Internal/UPPER' }) }))).toContain('test (AirgapPolicy): prop "mirror["docker.io"]" is "docker.io", which has the target "Registry.Internal/UPPER", which');
    expect(errorOf(() => AirgapPolicy.apply(stack, { mirror: MIRROR, allowedRegistries: ['bad host/x'] }))).toContain('prop "allowedRegistries" is "bad host/x"');
    const rule = AirgapRules.PINNED_BY_DIGEST;
    expect(errorOf(() => AirgapPolicy.apply(stack, { mirror: MIRROR, rules: [rule, rule] }))).toContain('prop "rules[1].id" is "AG1-pinned-by-digest", which is the id of an earlier rule too');
    expect(errorOf(() => AirgapPolicy.apply(stack, { mirror: {} as RegistryMirror }))).toContain('prop "mirror" is {}, which is not a RegistryMirror');
  });

  test('offline/policy-report.json lists the suppressed AG1 finding with its reason, beside the kit and under its SHA256SUMS', () => {
    const { app, stack } = newStack('preview');
    AirgapPolicy.apply(stack, { mirror: MIRROR });
    const api = new GoService(stack, 'api', { image: 'docker.io/library/nginx:1.27' });
    new GoService(stack, 'web', { image: `registry.internal/team/web@${D}` });
    AirgapPolicy.suppress(api, 'AG1-pinned-by-digest', 'vendor ships only a moving tag; re-mirrored nightly');
    app.synth();
    const dir = join(app.outdir, 'stacks', 'preview');
    const report = JSON.parse(readFileSync(join(dir, 'offline', 'policy-report.json'), 'utf8')) as { stack: string; summary: Record<string, number>; findings: Array<Record<string, string>>; suppressions: unknown[] };
    expect(report.stack).toBe('preview');
    expect(report.summary).toEqual({ resourcesChecked: 6, errors: 0, warnings: 0, infos: 0, suppressed: 1 });
    expect(report.findings).toEqual([
      {
        rule: 'AG1-pinned-by-digest',
        pack: 'airgap',
        level: 'error',
        resourceType: 'kubernetes_deployment_v1',
        address: expect.stringMatching(/^kubernetes_deployment_v1\.api_Deployment_[0-9A-F]{8}$/),
        construct: 'preview/api/Deployment',
        field: 'spec.template.spec.container.0.image',
        message: 'image "registry.internal/library/nginx:1.27" is not pinned by digest',
        fix: expect.stringContaining('name@sha256:<digest>'),
        suppressedBecause: 'vendor ships only a moving tag; re-mirrored nightly',
        suppressedAt: 'preview/api',
      },
    ]);
    expect(report.suppressions).toEqual([{ construct: 'preview/api', rule: 'AG1-pinned-by-digest', reason: 'vendor ships only a moving tag; re-mirrored nightly', covered: 1 }]);
    expect(readFileSync(join(dir, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}offline\/policy-report\.json$/m);
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
