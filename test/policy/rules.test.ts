import { PolicyChecks, PolicyFinding, PolicyLevel, PolicyPack } from '../../lib';

const D = `sha256:${'a'.repeat(64)}`;
type Obj = Record<string, unknown>;

/** A pod spec that meets every rule of every pack, as cdk.tf.json writes it. */
function compliantPod(): Obj {
  const container = (name: string) => ({
    name,
    image: `registry.internal/team/${name}@${D}`,
    security_context: { allow_privilege_escalation: false, capabilities: { drop: ['ALL'] }, run_as_non_root: true },
    resources: { requests: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '64Mi' }, limits: { memory: '64Mi' } },
    liveness_probe: { http_get: { path: '/healthz', port: '8080' } },
    readiness_probe: { http_get: { path: '/readyz', port: '8080' } },
  });
  return {
    automount_service_account_token: false,
    security_context: { run_as_non_root: true, seccomp_profile: { type: 'RuntimeDefault' } },
    container: [container('app')],
    init_container: [{ ...container('setup'), liveness_probe: undefined, readiness_probe: undefined }],
    volume: [{ name: 'tmp', empty_dir: { size_limit: '64Mi' } }],
  };
}

function deployment(pod: Obj, annotations: Obj = {}): Obj {
  return { metadata: { name: 'web' }, spec: { selector: { match_labels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' }, annotations }, spec: pod } } };
}

const at = (o: Obj, path: string): Obj => path.split('.').reduce<Obj>((x, k) => x[k] as Obj, o);
const container = (pod: Obj, kind = 'container') => (pod[kind] as Obj[])[0];
const sc = (o: Obj) => o.security_context as Obj;

function findings(config: Obj, type = 'kubernetes_deployment_v1'): PolicyFinding[] {
  return PolicyChecks.check(type, config, { address: `${type}.web` });
}

/** One row: a rule, a change that breaks it, and what the finding must say. */
const BREAKS: Array<[string, (pod: Obj, annotations: Obj) => void, string, string, string[]?]> = [
  ['PS1-host-namespaces', (p) => (p.host_pid = true), 'spec.template.spec.host_pid', 'sets host_pid to true'],
  ['PS1-host-namespaces', (p) => (p.host_network = true), 'spec.template.spec.host_network', 'sets host_network to true'],
  ['PS2-host-process', (p) => (sc(container(p)).windows_options = { host_process: true }), 'spec.template.spec.container.0.security_context.windows_options.host_process', 'container "app" sets windows_options.host_process to true'],
  ['PS3-privileged', (p) => (sc(container(p)).privileged = true), 'spec.template.spec.container.0.security_context.privileged', 'container "app" is privileged'],
  ['PS3-privileged', (p) => (sc(container(p, 'init_container')).privileged = true), 'spec.template.spec.init_container.0.security_context.privileged', 'init container "setup" is privileged'],
  ['PS4-capabilities', (p) => (sc(container(p)).capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] }), 'spec.template.spec.container.0.security_context.capabilities.add', 'container "app" adds NET_ADMIN'],
  ['PS4-capabilities', (p) => (sc(container(p)).capabilities = {}), 'spec.template.spec.container.0.security_context.capabilities.drop', 'container "app" does not drop ALL capabilities'],
  ['PS5-host-path', (p) => (p.volume = [{ name: 'root', host_path: { path: '/' } }]), 'spec.template.spec.volume.0.host_path', 'volume "root" is a hostPath volume', ['PS12-volume-types']],
  ['PS6-host-ports', (p) => (container(p).port = [{ container_port: 8080, host_port: 80 }]), 'spec.template.spec.container.0.port.0.host_port', 'container "app" binds host port 80'],
  ['PS7-apparmor', (_p, a) => (a['container.apparmor.security.beta.kubernetes.io/app'] = 'unconfined'), 'metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]', 'is "unconfined"'],
  ['PS7-apparmor', (p) => (sc(p).app_armor_profile = { type: 'Unconfined' }), 'spec.template.spec.security_context.app_armor_profile.type', 'the pod sets the AppArmor profile type "Unconfined"'],
  ['PS8-selinux', (p) => (sc(container(p)).se_linux_options = { type: 'spc_t' }), 'spec.template.spec.container.0.security_context.se_linux_options.type', 'container "app" sets the SELinux type "spc_t"'],
  ['PS8-selinux', (p) => (sc(p).se_linux_options = { user: 'root' }), 'spec.template.spec.security_context.se_linux_options.user', 'the pod sets the SELinux user "root"'],
  ['PS9-proc-mount', (p) => (sc(container(p)).proc_mount = 'Unmasked'), 'spec.template.spec.container.0.security_context.proc_mount', 'container "app" sets proc_mount to "Unmasked"'],
  ['PS10-seccomp', (p) => (sc(p).seccomp_profile = { type: 'Unconfined' }), 'spec.template.spec.security_context.seccomp_profile.type', 'the pod sets the seccomp profile "Unconfined"'],
  ['PS10-seccomp', (p) => delete sc(p).seccomp_profile, 'spec.template.spec.security_context', 'neither the pod nor container "app" sets a seccomp profile'],
  ['PS11-sysctls', (p) => (sc(p).sysctl = [{ name: 'kernel.msgmax', value: '65536' }]), 'spec.template.spec.security_context.sysctl.0.name', 'the pod sets the unsafe sysctl kernel.msgmax'],
  ['PS12-volume-types', (p) => (p.volume = [{ name: 'data', nfs: { server: 'nfs.internal', path: '/data' } }]), 'spec.template.spec.volume.0.nfs', 'volume "data" is of type nfs'],
  ['PS13-privilege-escalation', (p) => (sc(container(p)).allow_privilege_escalation = true), 'spec.template.spec.container.0.security_context.allow_privilege_escalation', 'container "app" does not set allow_privilege_escalation to false'],
  ['PS13-privilege-escalation', (p) => delete sc(container(p, 'init_container')).allow_privilege_escalation, 'spec.template.spec.init_container.0.security_context.allow_privilege_escalation', 'init container "setup" does not set allow_privilege_escalation to false'],
  ['PS14-run-as-non-root', (p) => delete sc(p).run_as_non_root, 'spec.template.spec.security_context.run_as_non_root', 'the pod\'s security_context leaves run_as_non_root unset, which the kubernetes provider sends as false'],
  ['PS14-run-as-non-root', (p) => (sc(container(p)).run_as_non_root = false), 'spec.template.spec.container.0.security_context.run_as_non_root', 'container "app" sets run_as_non_root to false'],
  // The provider sends an unset boolean of a security_context block as false, overriding the pod's true.
  ['PS14-run-as-non-root', (p) => delete sc(container(p)).run_as_non_root, 'spec.template.spec.container.0.security_context.run_as_non_root', 'container "app" has a security_context without run_as_non_root, which the kubernetes provider sends as false, overriding the pod\'s'],
  ['PS15-run-as-user', (p) => (sc(container(p)).run_as_user = '0'), 'spec.template.spec.container.0.security_context.run_as_user', 'container "app" sets run_as_user to 0'],
  ['PS16-probe-host', (p) => (at(container(p), 'liveness_probe.http_get').host = '10.0.0.1'), 'spec.template.spec.container.0.liveness_probe.http_get.host', 'container "app" liveness_probe targets host "10.0.0.1"'],
  ['AG1-pinned-by-digest', (p) => (container(p).image = 'registry.internal/team/app:1.2'), 'spec.template.spec.container.0.image', 'image "registry.internal/team/app:1.2" is not pinned by digest'],
  ['AG2-allowed-registry', (p) => (container(p).image = `nginx@${D}`), 'spec.template.spec.container.0.image', `image "nginx@${D}" names no registry, so Docker Hub (docker.io) is implied`, ['AG1-pinned-by-digest']],
  ['AG3-pull-policy', (p) => (container(p).image_pull_policy = 'Always'), 'spec.template.spec.container.0.image_pull_policy', 'container "app" sets image_pull_policy to Always'],
  ['HY1-resources', (p) => (container(p).resources = { requests: { cpu: '100m' } }), 'spec.template.spec.container.0.resources.requests', 'container "app" has no request or limit for memory, ephemeral-storage'],
  ['HY2-probes', (p) => delete container(p).readiness_probe, 'spec.template.spec.container.0.readiness_probe', 'container "app" has no readiness_probe'],
  ['HY3-token-automount', (p) => delete p.automount_service_account_token, 'spec.template.spec.automount_service_account_token', 'the pod does not opt out of the service-account token'],
];

describe('the rule packs, rule by rule', () => {
  test('the compliant pod has no finding at all', () => {
    expect(findings(deployment(compliantPod()))).toEqual([]);
  });

  test.each(BREAKS)('%s: %s', (rule, breakIt, field, message, alsoBroken = []) => {
    const pod = compliantPod();
    const annotations: Obj = {};
    breakIt(pod, annotations);
    const found = findings(deployment(pod, annotations));
    // Only this rule breaks (and those the admission plugin also reports for the same change).
    expect([...new Set(found.map((f) => f.rule))].sort()).toEqual([rule, ...alsoBroken].sort());
    const mine = found.find((f) => f.rule === rule && f.field === field);
    expect(mine).toMatchObject({ rule, field, address: 'kubernetes_deployment_v1.web' });
    expect(mine?.message).toContain(message);
    expect(mine?.fix.length).toBeGreaterThan(20);
  });

  test('every rule has an id, a level, a one-line explanation and a fix, and the table covers every rule', () => {
    const rules = PolicyChecks.rules();
    for (const r of rules) {
      expect(r.id).toMatch(/^(PS|AG|HY)\d+-[a-z-]+$/);
      expect(Object.values(PolicyLevel)).toContain(r.level);
      expect(r.explanation).not.toContain('\n');
      expect(r.fix).toMatch(/\.$/);
    }
    const covered = new Set([...BREAKS.map(([id]) => id), 'HY4-allow-all-network-policy']);
    expect(rules.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
    expect(rules.filter((r) => r.pack === PolicyPack.RESTRICTED).every((r) => r.level === PolicyLevel.ERROR)).toBe(true);
    expect(rules.filter((r) => r.pack === PolicyPack.AIRGAP).map((r) => r.id)).toEqual(['AG2-allowed-registry', 'AG1-pinned-by-digest', 'AG3-pull-policy']);
  });

  test('compliant variants pass: safe sysctls, NET_BIND_SERVICE, Localhost profiles, SELinux container types, settings on the containers only', () => {
    const pod = compliantPod();
    sc(pod).sysctl = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }];
    sc(container(pod)).capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] };
    sc(container(pod)).se_linux_options = { type: 'container_t', level: 's0:c1,c2' };
    sc(container(pod)).seccomp_profile = { type: 'Localhost', localhost_profile: 'profiles/app.json' };
    sc(container(pod)).run_as_user = '65532';
    container(pod).port = [{ container_port: 8080, host_port: 0 }];
    expect(findings(deployment(pod, { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/app' }))).toEqual([]);
    // No pod security_context at all: every container carries the settings.
    const containerLevel = compliantPod();
    delete containerLevel.security_context;
    for (const c of [container(containerLevel), container(containerLevel, 'init_container')]) sc(c).seccomp_profile = { type: 'RuntimeDefault' };
    expect(findings(deployment(containerLevel))).toEqual([]);
  });

  test('values known only at apply time are not judged', () => {
    const pod = compliantPod();
    sc(container(pod)).privileged = '${var.privileged}';
    sc(container(pod)).allow_privilege_escalation = '${var.escalate}';
    container(pod).image = 'registry.internal/team/app@${docker_registry_image.app.sha256_digest}';
    expect(findings(deployment(pod))).toEqual([]);
  });

  test('a list of one, as an override or raw JSON writes it, reads like the provider\'s object', () => {
    const pod = compliantPod();
    sc(container(pod)).privileged = true;
    const config = { metadata: [{ name: 'web' }], spec: [{ template: [{ metadata: [{}], spec: [pod] }] }] };
    expect(findings(config).map((f) => f.field)).toEqual(['spec.0.template.0.spec.0.container.0.security_context.privileged']);
  });

  test('Windows pods are exempt from the Linux-only controls, and user-namespaced pods from the root ones, as in the admission plugin', () => {
    const win = compliantPod();
    win.os = { name: 'windows' };
    delete sc(win).seccomp_profile;
    delete container(win).security_context;
    delete container(win, 'init_container').security_context;
    expect(findings(deployment(win)).map((f) => f.rule)).toEqual([]);
    const userns = compliantPod();
    userns.host_users = false;
    delete sc(userns).run_as_non_root;
    sc(container(userns)).run_as_user = '0';
    expect(findings(deployment(userns))).toEqual([]);
  });

  test('without an allow-list AG2 flags public registries; with one, anything outside it', () => {
    const pod = compliantPod();
    container(pod).image = `ghcr.io/team/app@${D}`;
    expect(findings(deployment(pod)).map((f) => f.rule)).toEqual(['AG2-allowed-registry']);
    container(pod).image = `registry.other/team/app@${D}`;
    expect(findings(deployment(pod))).toEqual([]);
    expect(PolicyChecks.check('kubernetes_deployment_v1', deployment(pod), { allowedRegistries: ['registry.internal'] }).map((f) => f.message)).toEqual([
      `image "registry.other/team/app@${D}" is not from an allowed registry (registry.internal)`,
    ]);
  });

  test('AG3 also flags an untagged or :latest image without a pull policy, which Kubernetes pulls on every start', () => {
    const pod = compliantPod();
    container(pod).image = 'registry.internal/team/app:latest';
    const rules = findings(deployment(pod)).map((f) => `${f.rule}: ${f.message}`);
    expect(rules).toEqual(expect.arrayContaining(['AG3-pull-policy: container "app" runs "registry.internal/team/app:latest" without a pull policy, so Kubernetes pulls it on every start']));
    container(pod).image_pull_policy = 'IfNotPresent';
    expect(findings(deployment(pod)).map((f) => f.rule)).toEqual(['AG1-pinned-by-digest']);
  });

  test('HY4: a rule without peers, an empty selector pair, 0.0.0.0/0 and an empty peer all allow everything; named peers do not', () => {
    const policy = (ingress: unknown[], egress: unknown[] = []) => ({ metadata: { name: 'p' }, spec: { pod_selector: {}, policy_types: ['Ingress', 'Egress'], ingress, egress } });
    const messages = PolicyChecks.check(
      'kubernetes_network_policy_v1',
      policy([{ ports: [{ port: '80' }] }, { from: [{ namespace_selector: {}, pod_selector: {} }] }, { from: [{}] }], [{ to: [{ ip_block: { cidr: '0.0.0.0/0' } }] }]),
    ).map((f) => `${f.field}: ${f.message}`);
    expect(messages).toEqual([
      'spec.ingress.0: ingress rule allows every source',
      'spec.ingress.1.from.0: ingress peer selects every pod in every namespace',
      'spec.ingress.2.from.0: ingress peer is empty, which matches everything',
      'spec.egress.0.to.0: egress peer allows 0.0.0.0/0',
    ]);
    const named = policy([{ from: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'ingress' } } }] }], [{ to: [{ ip_block: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }]);
    expect(PolicyChecks.check('kubernetes_network_policy_v1', named)).toEqual([]);
    expect(PolicyChecks.check('kubernetes_network_policy_v1', policy([]))).toEqual([]);
  });
});

describe('every pod-bearing resource', () => {
  const privileged = () => {
    const pod = compliantPod();
    sc(container(pod)).privileged = true;
    return pod;
  };
  const template = (pod: Obj) => ({ template: { metadata: {}, spec: pod } });
  const shapes: Array<[string, (pod: Obj) => Obj, string]> = [
    ['kubernetes_pod', (pod) => ({ metadata: { name: 'p' }, spec: pod }), 'spec'],
    ['kubernetes_pod_v1', (pod) => ({ metadata: { name: 'p' }, spec: pod }), 'spec'],
    ['kubernetes_deployment', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_deployment_v1', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_stateful_set', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_stateful_set_v1', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_daemonset', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_daemon_set_v1', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_replication_controller', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_replication_controller_v1', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_job', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_job_v1', (pod) => ({ spec: template(pod) }), 'spec.template.spec'],
    ['kubernetes_cron_job', (pod) => ({ spec: { schedule: '* * * * *', job_template: { metadata: {}, spec: template(pod) } } }), 'spec.job_template.spec.template.spec'],
    ['kubernetes_cron_job_v1', (pod) => ({ spec: { schedule: '* * * * *', job_template: { metadata: {}, spec: template(pod) } } }), 'spec.job_template.spec.template.spec'],
  ];

  test.each(shapes)('%s', (type, wrap, podPath) => {
    expect(PolicyChecks.check(type, wrap(privileged())).map((f) => `${f.rule} ${f.field}`)).toEqual([`PS3-privileged ${podPath}.container.0.security_context.privileged`]);
    const clean = PolicyChecks.check(type, wrap(compliantPod())).map((f) => f.rule);
    // Jobs run to completion: probes are not demanded of them.
    expect(clean).toEqual([]);
  });

  /** The compliant pod in the Kubernetes API's own spelling, for kubernetes_manifest. */
  const apiPod = (privilegedInit: boolean): Obj => ({
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [
      {
        name: 'setup',
        image: `registry.internal/team/setup@${D}`,
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: privilegedInit },
        resources: { requests: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '16Mi' } },
      },
    ],
    containers: [
      {
        name: 'app',
        image: `registry.internal/team/app@${D}`,
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        resources: { requests: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '16Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
      },
    ],
  });
  const kinds: Array<[string, (pod: Obj) => Obj, string]> = [
    ['Pod', (pod) => ({ spec: pod }), 'manifest.spec'],
    ['Deployment', (pod) => ({ spec: { template: { spec: pod } } }), 'manifest.spec.template.spec'],
    ['StatefulSet', (pod) => ({ spec: { template: { spec: pod } } }), 'manifest.spec.template.spec'],
    ['DaemonSet', (pod) => ({ spec: { template: { spec: pod } } }), 'manifest.spec.template.spec'],
    ['ReplicaSet', (pod) => ({ spec: { template: { spec: pod } } }), 'manifest.spec.template.spec'],
    ['ReplicationController', (pod) => ({ spec: { template: { spec: pod } } }), 'manifest.spec.template.spec'],
    ['Job', (pod) => ({ spec: { template: { spec: pod } } }), 'manifest.spec.template.spec'],
    ['CronJob', (pod) => ({ spec: { jobTemplate: { spec: { template: { spec: pod } } } } }), 'manifest.spec.jobTemplate.spec.template.spec'],
  ];

  test.each(kinds)('kubernetes_manifest of kind %s, in the API\'s spelling', (kind, wrap, podPath) => {
    const manifest = (privilegedInit: boolean) => ({ manifest: { apiVersion: 'v1', kind, metadata: { name: 'x', namespace: 'ns' }, ...wrap(apiPod(privilegedInit)) } });
    expect(PolicyChecks.check('kubernetes_manifest', manifest(true)).map((f) => `${f.rule} ${f.field} ${f.message}`)).toEqual([
      `PS3-privileged ${podPath}.initContainers.0.securityContext.privileged init container "setup" is privileged`,
    ]);
    expect(PolicyChecks.check('kubernetes_manifest', manifest(false))).toEqual([]);
  });

  test('ephemeral containers are judged like the others (kubernetes_manifest of a Pod)', () => {
    const pod = apiPod(false);
    pod.ephemeralContainers = [{ name: 'debug', image: `registry.internal/tools/debug@${D}`, securityContext: { privileged: true, capabilities: { add: ['SYS_PTRACE'] } } }];
    const found = PolicyChecks.check('kubernetes_manifest', { manifest: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: pod } }).map((f) => `${f.rule} ${f.field}: ${f.message}`);
    expect(found).toEqual([
      'PS3-privileged manifest.spec.ephemeralContainers.0.securityContext.privileged: ephemeral container "debug" is privileged',
      'PS4-capabilities manifest.spec.ephemeralContainers.0.securityContext.capabilities.drop: ephemeral container "debug" does not drop ALL capabilities',
      'PS4-capabilities manifest.spec.ephemeralContainers.0.securityContext.capabilities.add: ephemeral container "debug" adds SYS_PTRACE',
      'PS13-privilege-escalation manifest.spec.ephemeralContainers.0.securityContext.allowPrivilegeEscalation: ephemeral container "debug" does not set allow_privilege_escalation to false',
    ]);
  });

  test('in a manifest an unset field is unset: only the provider turns unset booleans into false', () => {
    const pod = apiPod(false);
    delete (pod.securityContext as Obj).runAsNonRoot;
    const found = PolicyChecks.check('kubernetes_manifest', { manifest: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: pod } }).map((f) => `${f.field}: ${f.message}`);
    expect(found).toEqual([
      'manifest.spec.securityContext: neither the pod nor container "app" sets run_as_non_root to true',
      'manifest.spec.securityContext: neither the pod nor init container "setup" sets run_as_non_root to true',
    ]);
  });

  test('label and annotation keys in a manifest are data, not field names', () => {
    const pod = apiPod(false);
    const m = { manifest: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { template: { metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }, labels: { someLabel: 'x' } }, spec: pod } } } };
    expect(PolicyChecks.check('kubernetes_manifest', m).map((f) => f.field)).toEqual(['metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]']);
  });

  test('a NetworkPolicy manifest is judged by HY4', () => {
    const m = { manifest: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'open' }, spec: { podSelector: {}, ingress: [{}] } } };
    expect(PolicyChecks.check('kubernetes_manifest', m).map((f) => `${f.rule} ${f.field}`)).toEqual(['HY4-allow-all-network-policy manifest.spec.ingress.0']);
  });
});
