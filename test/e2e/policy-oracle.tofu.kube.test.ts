/**
 * The real API server is the oracle for the restricted pack.
 *
 * Engines: the control plane of scripts/kube/up.sh (etcd, kube-apiserver with
 * Pod Security admission), OpenTofu with the kubernetes provider from the
 * filesystem mirror, and kubectl of the same release, in a network namespace
 * with only loopback.
 *
 * A table of pod specs, each breaking one restricted control (or meeting all
 * of them in some less common way), goes to a namespace that enforces
 * `restricted` at `latest`: as kubernetes_pod_v1 resources through
 * `tofu apply`, and as raw API objects through kubectl for what the provider
 * cannot express (procMount, appArmorProfile, user namespaces, ephemeral
 * containers through the `ephemeralcontainers` subresource). For every row,
 * the server must refuse the Pod exactly when our pack reports a restricted
 * error for it.
 */
import { PodV1 } from '@cdktf/provider-kubernetes/lib/pod-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App } from 'cdktf';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AirgapStack, PolicyChecks, PolicyPack, StackPolicy } from '../../lib';
import { kubectlIn } from '../support/kubectl';
import { LoopbackNetns } from '../support/netns';
import { toolchain } from '../support/toolchain';

jest.setTimeout(20 * 60 * 1000);

type Obj = Record<string, unknown>;
const D = `sha256:${'e'.repeat(64)}`;
const IMAGE = `registry.internal/team/app@${D}`;
const NAMESPACE = 'oracle';

/**
 * A container that meets every control, as cdk.tf.json writes it. Its
 * security_context repeats run_as_non_root: the provider sends an unset one as
 * false, which overrides the pod's true (row ps14-provider-default).
 */
const tfContainer = (name: string): Obj => ({
  name,
  image: IMAGE,
  security_context: { allow_privilege_escalation: false, capabilities: { drop: ['ALL'] }, run_as_non_root: true },
});
/** A pod spec that meets every control. */
const tfPod = (): Obj => ({ security_context: { run_as_non_root: true, seccomp_profile: { type: 'RuntimeDefault' } }, container: [tfContainer('app')] });
const first = (pod: Obj, kind = 'container') => (pod[kind] as Obj[])[0];
const sc = (o: Obj) => o.security_context as Obj;

/** Rows for kubernetes_pod_v1: a name, and a change to the compliant pod (and its annotations). */
const TF_ROWS: Array<[string, (pod: Obj, annotations: Obj) => void]> = [
  ['ok-compliant', () => undefined],
  ['ok-container-level-settings', (p) => {
    delete sc(p).run_as_non_root;
    delete sc(p).seccomp_profile;
    Object.assign(sc(first(p)), { run_as_non_root: true, seccomp_profile: { type: 'RuntimeDefault' } });
  }],
  ['ok-net-bind-service', (p) => (sc(first(p)).capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] })],
  ['ok-safe-sysctl', (p) => (sc(p).sysctl = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }])],
  ['ok-selinux-container-type', (p) => (sc(first(p)).se_linux_options = { type: 'container_t', level: 's0:c1,c2' })],
  ['ok-localhost-seccomp', (p) => (sc(p).seccomp_profile = { type: 'Localhost', localhost_profile: 'profiles/app.json' })],
  ['ok-apparmor-runtime-default', (_p, a) => (a['container.apparmor.security.beta.kubernetes.io/app'] = 'runtime/default')],
  ['ok-run-as-user-65532', (p) => (sc(p).run_as_user = '65532')],
  ['ok-allowed-volumes', (p) => (p.volume = [{ name: 'tmp', empty_dir: {} }, { name: 'cfg', config_map: { name: 'cfg', optional: true } }, { name: 'info', downward_api: { items: [{ path: 'labels', field_ref: { field_path: 'metadata.labels' } }] } }])],
  ['ok-init-container', (p) => (p.init_container = [tfContainer('setup')])],
  ['ps1-host-network', (p) => (p.host_network = true)],
  ['ps1-host-pid', (p) => (p.host_pid = true)],
  ['ps1-host-ipc', (p) => (p.host_ipc = true)],
  // Privileged containers always escalate: the API server refuses privileged with allow_privilege_escalation = false.
  ['ps3-privileged', (p) => Object.assign(sc(first(p)), { privileged: true, allow_privilege_escalation: true })],
  ['ps3-privileged-init', (p) => (p.init_container = [{ ...tfContainer('setup'), security_context: { ...sc(tfContainer('setup')), privileged: true, allow_privilege_escalation: true } }])],
  ['ps4-add-sys-admin', (p) => (sc(first(p)).capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] })],
  ['ps4-add-chown', (p) => (sc(first(p)).capabilities = { drop: ['ALL'], add: ['CHOWN'] })],
  ['ps4-no-drop-all', (p) => (sc(first(p)).capabilities = { drop: ['NET_RAW'] })],
  ['ps4-init-no-drop', (p) => (p.init_container = [{ ...tfContainer('setup'), security_context: { allow_privilege_escalation: false } }])],
  ['ps5-host-path', (p) => (p.volume = [{ name: 'root', host_path: { path: '/var/log' } }])],
  ['ps6-host-port', (p) => (first(p).port = [{ container_port: 8080, host_port: 8080 }])],
  ['ps7-apparmor-unconfined', (_p, a) => (a['container.apparmor.security.beta.kubernetes.io/app'] = 'unconfined')],
  ['ps8-selinux-type', (p) => (sc(first(p)).se_linux_options = { type: 'spc_t' })],
  ['ps8-selinux-user', (p) => (sc(p).se_linux_options = { user: 'system_u' })],
  ['ps8-selinux-role', (p) => (sc(first(p)).se_linux_options = { role: 'system_r' })],
  ['ps10-seccomp-unconfined', (p) => (sc(p).seccomp_profile = { type: 'Unconfined' })],
  ['ps10-seccomp-unset', (p) => delete sc(p).seccomp_profile],
  ['ps10-container-unconfined', (p) => (sc(first(p)).seccomp_profile = { type: 'Unconfined' })],
  ['ps11-unsafe-sysctl', (p) => (sc(p).sysctl = [{ name: 'kernel.msgmax', value: '65536' }])],
  ['ps12-nfs-volume', (p) => (p.volume = [{ name: 'data', nfs: { server: '127.0.0.1', path: '/exports' } }])],
  ['ps13-escalation-true', (p) => (sc(first(p)).allow_privilege_escalation = true)],
  ['ps13-escalation-unset', (p) => delete sc(first(p)).allow_privilege_escalation],
  ['ps14-non-root-unset', (p) => delete sc(p).run_as_non_root],
  ['ps14-container-false', (p) => (sc(first(p)).run_as_non_root = false)],
  ['ps14-provider-default', (p) => delete sc(first(p)).run_as_non_root],
  ['ps14-provider-default-pod', (p) => {
    delete sc(p).run_as_non_root;
    p.init_container = [tfContainer('setup')];
  }],
  ['ps15-run-as-user-0', (p) => (sc(first(p)).run_as_user = '0')],
  ['ps16-probe-host', (p) => (first(p).liveness_probe = { http_get: { path: '/healthz', port: '8080', host: '127.0.0.1' } })],
];

/** A compliant pod in the API's spelling. */
const apiPod = (name: string): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NAMESPACE },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'app', image: IMAGE, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  },
});
const apiSpec = (pod: Obj) => pod.spec as Obj;
const apiFirst = (pod: Obj) => (apiSpec(pod).containers as Obj[])[0].securityContext as Obj;

/** Rows created with kubectl, for fields the provider's schema lacks. */
const API_ROWS: Array<[string, (pod: Obj) => void]> = [
  ['api-ok-compliant', () => undefined],
  ['api-ok-apparmor-runtime-default', (p) => (apiFirst(p).appArmorProfile = { type: 'RuntimeDefault' })],
  ['api-ok-proc-mount-default', (p) => (apiFirst(p).procMount = 'Default')],
  ['api-ok-userns-root', (p) => {
    apiSpec(p).hostUsers = false;
    delete (apiSpec(p).securityContext as Obj).runAsNonRoot;
    apiFirst(p).runAsUser = 0;
  }],
  ['api-ps7-apparmor-unconfined', (p) => (apiFirst(p).appArmorProfile = { type: 'Unconfined' })],
  ['api-ps7-pod-apparmor-unconfined', (p) => ((apiSpec(p).securityContext as Obj).appArmorProfile = { type: 'Unconfined' })],
  ['api-ps9-proc-mount-unmasked', (p) => {
    apiSpec(p).hostUsers = false;
    apiFirst(p).procMount = 'Unmasked';
  }],
  // The provider's tcp_socket has no host; the API's has.
  ['api-ps16-tcp-probe-host', (p) => ((apiSpec(p).containers as Obj[])[0].readinessProbe = { tcpSocket: { port: 8080, host: '127.0.0.1' } })],
  ['api-ps16-prestop-host', (p) => ((apiSpec(p).containers as Obj[])[0].lifecycle = { preStop: { httpGet: { path: '/stop', port: 8080, host: 'example.internal' } } })],
  ['api-ps2-host-process', (p) => {
    apiSpec(p).hostNetwork = true;
    (apiSpec(p).securityContext as Obj).windowsOptions = { hostProcess: true };
  }],
];

/** Ephemeral containers, added to a running compliant pod through the subresource. */
const EPHEMERAL_ROWS: Array<[string, Obj]> = [
  ['eph-ok-compliant', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  ['eph-ps3-privileged', { securityContext: { privileged: true, capabilities: { drop: ['ALL'] } } }],
  ['eph-ps4-sys-ptrace', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] } } }],
  ['eph-ps13-kubectl-debug-default', {}],
  ['eph-ps15-root', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 0 } }],
];

interface Verdict {
  readonly row: string;
  readonly path: 'tofu' | 'kubectl' | 'ephemeral';
  readonly pack: string[];
  readonly server: 'admitted' | 'rejected';
  readonly serverReason: string;
}

let ns: LoopbackNetns;
let work: string;
const verdicts: Verdict[] = [];
const { kubectl, getJson } = kubectlIn(() => ns);

/** Every row of `path`: refused by Pod Security exactly when the pack reports a restricted error. */
function expectAgreement(path: Verdict['path']): void {
  const rows = verdicts.filter((v) => v.path === path);
  // Every refusal is Pod Security's, not a malformed row.
  for (const v of rows.filter((x) => x.server === 'rejected')) expect(`${v.row}: ${v.serverReason}`).toMatch(/violates PodSecurity "restricted:latest"/);
  expect(rows.map((v) => `${v.row}: server ${v.server}, pack ${v.pack.join(',') || 'passes'}`)).toEqual(rows.map((v) => `${v.row}: server ${v.pack.length > 0 ? 'rejected' : 'admitted'}, pack ${v.pack.join(',') || 'passes'}`));
}

/** The verdicts on one row created through kubectl. */
function record(row: string, path: Verdict['path'], manifest: Obj, r: { status: number | null; stderr: string }): void {
  const findings = PolicyChecks.check('kubernetes_manifest', { manifest });
  verdicts.push({ row, path, pack: restrictedRules(findings), server: r.status === 0 ? 'admitted' : 'rejected', serverReason: r.stderr.trim() });
}

const restrictedRules = (findings: Array<{ pack: string; level: string; rule: string }>) =>
  [...new Set(findings.filter((f) => f.pack === PolicyPack.RESTRICTED && f.level === 'error').map((f) => f.rule))].sort();

beforeAll(() => {
  const t = toolchain();
  work = mkdtempSync(join(tmpdir(), 'agc-oracle-'));
  ns = LoopbackNetns.create('oracle');
  // Privileged containers allowed by the API server, so Pod Security admission alone judges those rows.
  ns.startKube({ ...t.kube, AGC_KUBE_ALLOW_PRIVILEGED: 'true' });
  const created = kubectl(['create', 'namespace', NAMESPACE]);
  if (created.status !== 0) throw new Error(created.stderr);
  const labelled = kubectl(['label', 'namespace', NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
  if (labelled.status !== 0) throw new Error(labelled.stderr);
});

afterAll(() => {
  ns?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('kubernetes_pod_v1 rows through tofu apply: the server refuses exactly the rows our pack rejects', () => {
  const t = toolchain();
  const outdir = join(work, 'out');
  const app = new App({ outdir });
  // The rows break restricted on purpose; the pack's verdict is read from cdk.tf.json below, by the same pure rules.
  const stack = new AirgapStack(app, 'oracle', { policy: StackPolicy.only('oracle rows break restricted on purpose', PolicyPack.AIRGAP), providerVersions: { kubernetes: t.versions.kubernetes } });
  new KubernetesProvider(stack, 'kubernetes', {});
  for (const [name, change] of TF_ROWS) {
    const pod = tfPod();
    const annotations: Obj = {};
    change(pod, annotations);
    const resource = new PodV1(stack, name, { metadata: { name, namespace: NAMESPACE }, spec: { container: [] }, targetState: ['Pending'] });
    // The raw spec through the escape hatch: what the pack reads is what tofu sends.
    resource.addOverride('spec', pod);
    resource.addOverride('metadata.annotations', annotations);
  }
  app.synth();
  const dir = join(outdir, 'stacks', 'oracle');
  symlinkSync(t.mirror, join(outdir, 'providers'));
  const findings = PolicyChecks.checkSynthesized(readFileSync(join(dir, 'cdk.tf.json'), 'utf8'));
  const env = { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };
  const init = ns.exec(t.tofu, ['init', '-no-color', '-input=false'], { cwd: dir, env });
  if (init.status !== 0) throw new Error(init.stdout + init.stderr);
  const apply = ns.exec(t.tofu, ['apply', '-auto-approve', '-no-color', '-input=false', '-parallelism=8'], { cwd: dir, env });
  const output = apply.stdout + apply.stderr;
  const admitted = new Set(getJson<{ items: Array<{ metadata: { name: string } }> }>(['get', 'pods', '-n', NAMESPACE]).items.map((p) => p.metadata.name));
  for (const [name] of TF_ROWS) {
    const reason = new RegExp(`pods "${name}" is forbidden: ([^\\n]*)`).exec(output)?.[1] ?? '';
    verdicts.push({ row: name, path: 'tofu', pack: restrictedRules(findings.filter((f) => f.address === `kubernetes_pod_v1.${name}`)), server: admitted.has(name) ? 'admitted' : 'rejected', serverReason: reason });
  }
  expectAgreement('tofu');
  // The rows meant to break one control break the control they are named after.
  for (const v of verdicts.filter((x) => x.path === 'tofu' && x.row.startsWith('ps'))) expect(v.pack.map((r) => r.split('-')[0].toLowerCase())).toContain(v.row.split('-')[0]);
});

test('raw API rows through kubectl, for fields the provider cannot write', () => {
  for (const [name, change] of API_ROWS) {
    const pod = apiPod(name);
    change(pod);
    record(name, 'kubectl', pod, kubectl(['create', '-f', '-'], JSON.stringify(pod)));
  }
  expectAgreement('kubectl');
});

test('ephemeral containers through the ephemeralcontainers subresource', () => {
  for (const [name, extra] of EPHEMERAL_ROWS) {
    const pod = apiPod(name);
    const created = kubectl(['create', '-f', '-'], JSON.stringify(pod));
    if (created.status !== 0) throw new Error(created.stderr);
    const live = getJson<Obj>(['get', 'pod', name, '-n', NAMESPACE]);
    const withDebug = { ...live, spec: { ...(live.spec as Obj), ephemeralContainers: [{ name: 'debug', image: `registry.internal/tools/debug@${D}`, ...extra }] } };
    record(name, 'ephemeral', withDebug, kubectl(['replace', '--subresource=ephemeralcontainers', '-f', '-'], JSON.stringify(withDebug)));
  }
  expectAgreement('ephemeral');
});

test('the agreement, as a count: zero disagreements', () => {
  const agree = verdicts.filter((v) => (v.server === 'rejected') === v.pack.length > 0);
  const summary = { rows: verdicts.length, agreements: agree.length, disagreements: verdicts.length - agree.length, rejected: verdicts.filter((v) => v.server === 'rejected').length };
  process.stdout.write(`policy oracle: ${JSON.stringify(summary)}\n${verdicts.map((v) => `  ${v.path.padEnd(9)} ${v.row.padEnd(34)} server ${v.server.padEnd(8)} pack ${v.pack.join(',') || '-'}`).join('\n')}\n`);
  expect(summary.rows).toBe(TF_ROWS.length + API_ROWS.length + EPHEMERAL_ROWS.length);
  expect(summary.disagreements).toBe(0);
  // Both verdicts occur on every path, so neither side can pass by always answering the same.
  for (const path of ['tofu', 'kubectl', 'ephemeral']) expect(new Set(verdicts.filter((v) => v.path === path).map((v) => v.server))).toEqual(new Set(['admitted', 'rejected']));
});
