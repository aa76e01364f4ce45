import { DeploymentV1, DeploymentV1SpecTemplateSpec } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { PodV1 } from '@cdktf/provider-kubernetes/lib/pod-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App, TerraformStack, Testing } from 'cdktf';
import { readFileSync } from 'fs';
import { join } from 'path';
import { AirgapPolicy, AirgapStack, GoService, PodSecurityOptOut, PolicyChecks, PolicyPack, RegistryMirror, RestrictedControl, StackPolicy } from '../../lib';
import { errorOf, newStack } from '../support/synth';

const D = `sha256:${'c'.repeat(64)}`;
const IMAGE = `registry.internal/team/app@${D}`;

/** A pod spec that passes every pack, in the provider's props. */
function podSpec(): DeploymentV1SpecTemplateSpec {
  return {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    container: [
      {
        name: 'app',
        image: IMAGE,
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true },
        resources: { requests: { cpu: '50m', memory: '32Mi', 'ephemeral-storage': '32Mi' }, limits: { memory: '32Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: '8080' } },
        readinessProbe: { httpGet: { path: '/healthz', port: '8080' } },
      },
    ],
  };
}

function rawDeployment(stack: TerraformStack, id: string, spec: DeploymentV1SpecTemplateSpec = podSpec()): DeploymentV1 {
  return new DeploymentV1(stack, id, {
    metadata: { name: id, namespace: 'default' },
    spec: { selector: { matchLabels: { app: id } }, template: { metadata: { labels: { app: id } }, spec } },
  });
}

function privilegedSpec(): DeploymentV1SpecTemplateSpec {
  const spec = podSpec();
  return { ...spec, container: [{ ...(spec.container as object[])[0], securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true } } as never] };
}

describe('PolicyChecks in every AirgapStack', () => {
  test('a raw DeploymentV1 with a privileged container fails cdktf synth and Testing.synth(stack, true), naming path, rule, field and fix', () => {
    const { app, stack } = newStack();
    rawDeployment(stack, 'web', privilegedSpec());
    const message = errorOf(() => app.synth());
    expect(message).toContain(
      '[test/web] [PS3-privileged] kubernetes_deployment_v1 field spec.template.spec.container.0.security_context.privileged: container "app" is privileged; rule: privileged containers have every capability and every device of the node. Fix: Remove security_context.privileged, or set it to false. Or accept it with PolicyChecks.suppress(construct, "PS3-privileged", "<why>").',
    );
    const second = newStack();
    rawDeployment(second.stack, 'web', privilegedSpec());
    expect(errorOf(() => Testing.synth(second.stack, true))).toContain('[PS3-privileged]');
    // Without validations Testing.synth still renders, and the finding is on the resource.
    const third = newStack();
    const d = rawDeployment(third.stack, 'web', privilegedSpec());
    expect(() => Testing.synth(third.stack)).not.toThrow();
    expect(d.node.metadata.filter((m) => m.type === 'airgap-go-constructs:finding').map((m) => (m.data as { rule: string }).rule)).toEqual(['PS3-privileged']);
  });

  test('an escape-hatch override on a GoService is judged as rendered', () => {
    const { app, stack } = newStack();
    const svc = new GoService(stack, 'api', { image: IMAGE });
    expect(() => Testing.synth(stack, true)).not.toThrow();
    svc.deployment.addOverride('spec.template.spec.container.0.security_context.privileged', true);
    svc.deployment.addOverride('spec.template.spec.host_network', true);
    const message = errorOf(() => app.synth());
    expect(message).toContain('[test/api/Deployment] [PS3-privileged] kubernetes_deployment_v1 field spec.template.spec.container.0.security_context.privileged: container "api" is privileged');
    expect(message).toContain('[test/api/Deployment] [PS1-host-namespaces] kubernetes_deployment_v1 field spec.template.spec.host_network: sets host_network to true');
  });

  test('a privileged init container of a raw PodV1 fails synth', () => {
    const { app, stack } = newStack();
    const spec = podSpec();
    new PodV1(stack, 'job', {
      metadata: { name: 'job', namespace: 'default' },
      spec: { ...spec, initContainer: [{ name: 'setup', image: IMAGE, securityContext: { privileged: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true }, resources: { requests: { cpu: '10m', memory: '8Mi', 'ephemeral-storage': '8Mi' } } }] },
    });
    expect(errorOf(() => app.synth())).toContain('[test/job] [PS3-privileged] kubernetes_pod_v1 field spec.init_container.0.security_context.privileged: init container "setup" is privileged');
  });

  test('hygiene findings are warnings: printed, reported, and synth goes on', () => {
    const { app, stack } = newStack();
    const spec = podSpec();
    const d = rawDeployment(stack, 'web', { ...spec, automountServiceAccountToken: undefined });
    expect(() => app.synth()).not.toThrow();
    const warnings = d.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringContaining('[HY3-token-automount] kubernetes_deployment_v1 field spec.template.spec.automount_service_account_token: the pod does not opt out of the service-account token')]);
  });

  test('a suppression covers one construct and one rule, with its reason, and is reported', () => {
    const { app, stack } = newStack('preview');
    const a = rawDeployment(stack, 'a', privilegedSpec());
    rawDeployment(stack, 'b', privilegedSpec());
    PolicyChecks.suppress(a, 'PS3-privileged', 'node agent: needs the host devices, reviewed by security');
    const message = errorOf(() => app.synth());
    expect(message).toContain('[preview/b] [PS3-privileged]');
    expect(message).not.toContain('[preview/a]');
    expect(a.node.metadata.filter((m) => m.type === '@cdktf/info').map((m) => String(m.data))).toEqual([expect.stringContaining('Suppressed: node agent: needs the host devices, reviewed by security')]);
    expect(a.node.metadata.filter((m) => m.type === 'airgap-go-constructs:suppression').map((m) => m.data)).toEqual([{ rule: 'PS3-privileged', reason: 'node agent: needs the host devices, reviewed by security' }]);
    expect(errorOf(() => PolicyChecks.suppress(a, 'PS3-privileged', 'short'))).toBe(
      'preview/a (PolicyChecks): prop "suppress("PS3-privileged").reason" is "short", which is shorter than 10 characters. Say why this construct may break the rule, so reviewers can judge it.',
    );
  });

  test('a stack-wide suppression needs the same reason, covers every resource, and the report lists it with the findings it covered', () => {
    const { app, stack } = newStack('preview');
    rawDeployment(stack, 'a', privilegedSpec());
    rawDeployment(stack, 'b', privilegedSpec());
    PolicyChecks.suppress(stack, 'PS3-privileged', 'lab cluster for driver development, never production');
    app.synth();
    const report = JSON.parse(readFileSync(join(app.outdir, 'stacks', 'preview', 'offline', 'policy-report.json'), 'utf8')) as {
      summary: Record<string, number>;
      findings: Array<{ rule: string; construct: string; suppressedBecause?: string; suppressedAt?: string }>;
      suppressions: unknown[];
      rules: Array<{ id: string }>;
    };
    expect(report.summary).toEqual({ resourcesChecked: 2, errors: 0, warnings: 0, infos: 0, suppressed: 2 });
    expect(report.findings.map((f) => [f.construct, f.rule, f.suppressedAt])).toEqual([
      ['preview/a', 'PS3-privileged', 'preview'],
      ['preview/b', 'PS3-privileged', 'preview'],
    ]);
    expect(report.suppressions).toEqual([{ construct: 'preview', rule: 'PS3-privileged', reason: 'lab cluster for driver development, never production', covered: 2 }]);
    expect(report.rules.map((r) => r.id)).toContain('PS16-probe-host');
    expect(readFileSync(join(app.outdir, 'stacks', 'preview', 'SHA256SUMS'), 'utf8')).toMatch(/ {2}offline\/policy-report\.json$/m);
  });

  test('a suppression naming no known rule is a synth error', () => {
    const { app, stack } = newStack();
    const d = rawDeployment(stack, 'web');
    PolicyChecks.suppress(d, 'PS3-privilegd', 'typo in the rule id, on purpose');
    expect(errorOf(() => app.synth())).toContain('[test/web] suppression names rule "PS3-privilegd", which no policy over test/web applies');
  });

  test('turning packs off takes StackPolicy.only with a reason; the rest still run', () => {
    const app = Testing.app();
    expect(errorOf(() => new AirgapStack(app, 'lab', { policy: StackPolicy.only('', PolicyPack.HYGIENE) }))).toBe(
      'lab (AirgapStack): prop "policy.reason" is "", which turns off the restricted and airgap packs without a reason of at least 10 characters. Say why the stack cannot meet the pack, so reviewers can judge it: StackPolicy.only("<why>", ...).',
    );
    expect(app.node.tryFindChild('lab')).toBeUndefined();
    const lab = new AirgapStack(app, 'lab2', { policy: StackPolicy.only('driver lab: privileged by design', PolicyPack.AIRGAP) });
    new KubernetesProvider(lab, 'k8s', {});
    rawDeployment(lab, 'web', privilegedSpec());
    expect(() => Testing.synth(lab, true)).not.toThrow();
    const tagged = podSpec();
    (tagged.container as Array<{ image: string }>)[0].image = 'registry.internal/team/app:1';
    rawDeployment(lab, 'tagged', tagged);
    expect(errorOf(() => Testing.synth(lab, true))).toContain('[AG1-pinned-by-digest]');
    expect(lab.policyChecks.packs).toEqual([PolicyPack.AIRGAP]);
  });

  test('StackPolicy.withAllowedRegistries makes AG2 strict', () => {
    const app = Testing.app();
    const stack = new AirgapStack(app, 's', { policy: StackPolicy.defaults().withAllowedRegistries('registry.internal/team') });
    new KubernetesProvider(stack, 'k8s', {});
    const other = podSpec();
    (other.container as Array<{ image: string }>)[0].image = `registry.other/team/app@${D}`;
    rawDeployment(stack, 'ok');
    rawDeployment(stack, 'other', other);
    const message = errorOf(() => app.synth());
    expect(message).toContain(`[s/other] [AG2-allowed-registry] kubernetes_deployment_v1 field spec.template.spec.container.0.image: image "registry.other/team/app@${D}" is not from an allowed registry (registry.internal/team)`);
    expect(message).not.toContain('[s/ok]');
    expect(errorOf(() => new AirgapStack(Testing.app(), 'bad', { policy: StackPolicy.defaults().withAllowedRegistries('Bad Host') }))).toBe(
      'bad (AirgapStack): prop "policy.allowedRegistries" is "Bad Host", which contains white space. Write registry prefixes as "registry.host[:port][/path]".',
    );
  });

  test('a GoService PodSecurityOptOut is the suppression of the matching rules, with its reason', () => {
    const { app, stack } = newStack();
    const svc = new GoService(stack, 'legacy', {
      image: IMAGE,
      podSecurityOptOut: PodSecurityOptOut.allow('legacy binary binds :80 as root until rewritten', RestrictedControl.RUN_AS_ROOT),
      securityContext: undefined,
    });
    svc.deployment.addOverride('spec.template.spec.container.0.security_context.run_as_user', '0');
    expect(() => app.synth()).not.toThrow();
    const checks = PolicyChecks.of(stack)!;
    expect(checks.findings.map((f) => [f.rule, f.suppressedBecause])).toEqual([['PS15-run-as-user', 'PodSecurityOptOut: legacy binary binds :80 as root until rewritten']]);
  });

  test('synth is deterministic: the report is byte-identical across two apps', () => {
    const build = () => {
      const { app, stack } = newStack('preview');
      rawDeployment(stack, 'a', { ...podSpec(), automountServiceAccountToken: undefined });
      app.synth();
      return readFileSync(join(app.outdir, 'stacks', 'preview', 'offline', 'policy-report.json'), 'utf8');
    };
    expect(build()).toBe(build());
  });

  test('a plain TerraformStack runs no packs, unless an AirgapPolicy brings the air-gap pack', () => {
    const app = new App({ outdir: Testing.app().outdir });
    const plain = new TerraformStack(app, 'plain');
    new KubernetesProvider(plain, 'k8s', {});
    rawDeployment(plain, 'web', privilegedSpec());
    expect(() => Testing.synth(plain, true)).not.toThrow();
    const other = new TerraformStack(app, 'other');
    new KubernetesProvider(other, 'k8s', {});
    AirgapPolicy.apply(other, { mirror: RegistryMirror.of({ 'docker.io': 'registry.internal/docker.io' }) });
    const tagged = privilegedSpec();
    (tagged.container as Array<{ image: string }>)[0].image = 'docker.io/library/nginx:1';
    rawDeployment(other, 'web', tagged);
    const message = errorOf(() => Testing.synth(other, true));
    expect(message).toContain('[AG1-pinned-by-digest] kubernetes_deployment_v1 field spec.template.spec.container.0.image: image "registry.internal/docker.io/library/nginx:1" is not pinned by digest');
    expect(message).not.toContain('PS3');
  });
});
