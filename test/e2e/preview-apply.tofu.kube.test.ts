/**
 * Engines: a real Kubernetes control plane (etcd, kube-apiserver and
 * kube-controller-manager built from k8s.io/kubernetes by scripts/toolchain.sh,
 * started by scripts/kube/up.sh), OpenTofu with the kubernetes and docker
 * providers from the filesystem mirror, and podman plus the registry, all in
 * one network namespace that has only loopback.
 *
 * main.ts is synthesized for two branches. Its image stack is applied (hello-go
 * built and pushed), then both preview stacks: the API server must accept every
 * object, Pod Security "restricted" must admit the Deployment's Pods and refuse
 * a root Pod, the quota must refuse an oversized Pod, plans must show no drift,
 * and destroy must leave nothing of ours behind.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { gunzipSync } from 'zlib';
import { makeHelloBundle } from '../support/bundle';
import { engineUp, REGISTRY, ROOT } from '../support/engine';
import { kubectlIn, waitFor } from '../support/kubectl';
import { LoopbackNetns, NetnsResult } from '../support/netns';
import { kubeScore, undeliberateCritical } from '../support/kube-score';
import { toolchain } from '../support/toolchain';

jest.setTimeout(30 * 60 * 1000);

type PodSpec = Record<string, unknown> & { containers: Array<Record<string, unknown>> };

const CREATED_AT = '2026-11-22T10:00:00Z';
const BRANCH_A = 'feature/Login-Page';
const BRANCH_B = 'PR-42';

let ns: LoopbackNetns;
let work: string;
let bundle: { dir: string; hash: string };
const apps: Record<'a' | 'b', { outdir: string; namespace: string }> = {} as never;
const pins: Record<string, string> = {};

/** Runs main.ts into a fresh outdir, as `npm run synth` would with the engine's bases and the mirror's provider versions, plus `env`. */
function runMain(prefix: string, env: Record<string, string>): { outdir: string; r: ReturnType<typeof spawnSync> } {
  const t = toolchain();
  const info = engineUp();
  const outdir = mkdtempSync(join(work, prefix));
  const r = spawnSync(process.execPath, ['--require', 'ts-node/register/transpile-only', join(ROOT, 'main.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDKTF_OUTDIR: outdir,
      PREVIEW_CREATED_AT: CREATED_AT,
      PREVIEW_WAIT_FOR_ROLLOUT: 'false',
      BUILDER_DIGEST: info.builderDigest,
      RUNTIME_DIGEST: info.runtimeDigest,
      KUBERNETES_PROVIDER_VERSION: t.versions.kubernetes,
      DOCKER_PROVIDER_VERSION: t.versions.docker,
      ...env,
    },
  });
  return { outdir, r };
}

/** Synthesizes main.ts for `branch` into a fresh outdir. */
function synthMain(branch: string): { outdir: string; namespace: string } {
  const t = toolchain();
  // hello-go gets the offline mirror as a sidecar; the image stack builds its two images.
  const { outdir, r } = runMain('app-', { PREVIEW_BRANCH: branch, OFFLINE_BUNDLE_DIR: bundle.dir, OFFLINE_BUNDLE_SHA256SUMS_HASH: bundle.hash });
  if (r.status !== 0) throw new Error(`synth of main.ts for ${branch} failed:\n${String(r.stderr)}\n${String(r.stdout)}`);
  // The pins, recorded on the synth side: the sha256 of each stack's SHA256SUMS.
  for (const stack of ['images', 'preview']) pins[`${outdir}/${stack}`] = createHash('sha256').update(readFileSync(join(outdir, 'stacks', stack, 'SHA256SUMS'))).digest('hex');
  // Where the kit's CLI config expects the carried provider mirror (../../providers).
  symlinkSync(t.mirror, join(outdir, 'providers'));
  const config = JSON.parse(readFileSync(join(outdir, 'stacks/preview/cdk.tf.json'), 'utf8')) as {
    resource: { kubernetes_namespace_v1: Record<string, { metadata: { name: string } }> };
  };
  const [namespace] = Object.values(config.resource.kubernetes_namespace_v1).map((n) => n.metadata.name);
  return { outdir, namespace };
}

/** Runs tofu in a stack directory inside the namespace, with the kit's own CLI config. */
function tofu(outdir: string, stack: string, args: readonly string[]): NetnsResult {
  return ns.exec(toolchain().tofu, [...args, '-no-color', '-input=false'], {
    cwd: join(outdir, 'stacks', stack),
    env: { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
  });
}

/** verify.sh, init and apply of one stack; throws with tofu's output on failure. */
function applyStack(outdir: string, stack: string): void {
  ns.run('sh', ['offline/verify.sh', pins[`${outdir}/${stack}`]], { cwd: join(outdir, 'stacks', stack) });
  for (const args of [['init'], ['apply', '-auto-approve']]) {
    const r = tofu(outdir, stack, args);
    if (r.status !== 0) throw new Error(`tofu ${args[0]} of ${stack} in ${outdir} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
}

const { kubectl, getJson, list } = kubectlIn(() => ns);

/** A bare Pod with the Deployment's own pod template spec, to put admission to the test. */
function podFromDeployment(namespace: string, name: string, edit: (spec: PodSpec) => void = () => undefined): string {
  const deployment = getJson<{ spec: { template: { spec: PodSpec } } }>(['get', 'deployment', 'hello', '-n', namespace]);
  const spec = JSON.parse(JSON.stringify(deployment.spec.template.spec)) as PodSpec;
  edit(spec);
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec });
}

beforeAll(() => {
  const t = toolchain();
  engineUp();
  work = mkdtempSync(join(tmpdir(), 'agc-kube-e2e-'));
  bundle = makeHelloBundle();
  ns = LoopbackNetns.create('kube');
  ns.startEngine();
  ns.startKube(t.kube);
  apps.a = synthMain(BRANCH_A);
  apps.b = synthMain(BRANCH_B);
  applyStack(apps.a.outdir, 'images');
  // Preview B reads the same image stack's state (one image, two previews).
  copyFileSync(join(apps.a.outdir, 'stacks/images/terraform.images.tfstate'), join(apps.b.outdir, 'stacks/images/terraform.images.tfstate'));
});

afterAll(() => {
  if (apps.a) {
    const r = tofu(apps.a.outdir, 'images', ['destroy', '-auto-approve']);
    if (r.status !== 0) process.stderr.write(`image stack destroy failed: ${r.stdout}${r.stderr}\n`);
  }
  ns?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the namespace has only loopback: nothing in these tests can reach the network', () => {
  const links = ns.run('ip', ['-o', 'link']).trim().split('\n').map((l) => l.split(': ')[1]);
  expect(links).toEqual(['lo']);
  expect(ns.exec('curl', ['-sS', '--max-time', '5', 'https://proxy.golang.org/']).status).not.toBe(0);
});

describe('preview A', () => {
  test('tofu apply of main.ts preview stack: the API server holds every object with the fields that matter', () => {
    applyStack(apps.a.outdir, 'preview');
    const namespace = apps.a.namespace;
    expect(namespace).toMatch(/^preview-feature-login-page-[0-9a-f]{10}$/);

    const nsObj = getJson(['get', 'namespace', namespace]);
    expect(nsObj.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.34',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'airgap-go-constructs.io/preview': 'true',
      'airgap-go-constructs.io/expires-at': '20261125T100000Z',
    });

    const names = (kind: string) => list(['get', kind, '-n', namespace]).map((o) => o.metadata.name).sort();
    expect(names('networkpolicies')).toEqual(['allow-dns', 'allow-ingress-controller-hello', 'allow-same-namespace', 'default-deny']);
    expect(names('resourcequotas')).toEqual(['preview-quota']);
    expect(names('limitranges')).toEqual(['preview-limits']);
    expect(names('serviceaccounts')).toEqual(expect.arrayContaining(['preview-workload']));
    expect(names('deployments')).toEqual(['hello']);
    expect(names('services')).toEqual(['hello']);
    expect(names('poddisruptionbudgets')).toEqual(['hello']);
    expect(names('ingresses')).toEqual(['hello']);

    const sa = getJson<{ automountServiceAccountToken?: boolean }>(['get', 'serviceaccount', 'preview-workload', '-n', namespace]);
    expect(sa.automountServiceAccountToken).toBe(false);

    const deny = getJson<{ spec: { podSelector: object; policyTypes: string[]; ingress?: unknown; egress?: unknown } }>(['get', 'networkpolicy', 'default-deny', '-n', namespace]);
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const dns = getJson<{ spec: { egress: Array<{ to: Array<Record<string, unknown>>; ports: Array<{ port: number; protocol: string }> }> } }>(['get', 'networkpolicy', 'allow-dns', '-n', namespace]);
    expect(dns.spec.egress[0].to[0]).toEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
    });
    expect(dns.spec.egress[0].ports.map((p) => `${p.protocol}/${p.port}`).sort()).toEqual(['TCP/53', 'UDP/53']);
    const same = getJson<{ spec: { ingress: Array<{ from: unknown[] }> } }>(['get', 'networkpolicy', 'allow-same-namespace', '-n', namespace]);
    expect(same.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } }]);
    const ingressAllow = getJson<{ spec: { podSelector: { matchLabels: Record<string, string> }; ingress: Array<{ ports: Array<{ port: number }> }> } }>(['get', 'networkpolicy', 'allow-ingress-controller-hello', '-n', namespace]);
    expect(ingressAllow.spec.podSelector.matchLabels).toMatchObject({ 'app.kubernetes.io/name': 'hello' });
    expect(ingressAllow.spec.ingress[0].ports[0].port).toBe(8080);

    const quota = getJson<{ spec: { hard: Record<string, string> } }>(['get', 'resourcequota', 'preview-quota', '-n', namespace]);
    expect(quota.spec.hard).toMatchObject({ 'requests.cpu': '2', 'limits.cpu': '8', pods: '20', 'services.nodeports': '0' });

    const deployment = getJson<{ spec: { replicas: number; template: { spec: PodSpec } } }>(['get', 'deployment', 'hello', '-n', namespace]);
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBe(2);
    expect(pod).toMatchObject({
      serviceAccountName: 'preview-workload',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    });
    const [container] = pod.containers;
    expect(container).toMatchObject({
      name: 'hello',
      imagePullPolicy: 'IfNotPresent',
      securityContext: { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
      readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 5 },
    });
    // The digest the image stack pushed, read from the image stack's state.
    const imageState = JSON.parse(readFileSync(join(apps.a.outdir, 'stacks/images/terraform.images.tfstate'), 'utf8')) as {
      resources: Array<{ type: string; name: string; instances: Array<{ attributes: { sha256_digest?: string } }> }>;
    };
    // The image stack pushes three images; each push's logical id starts with its construct id.
    const digestOf = (id: string) => imageState.resources.find((r) => r.type === 'docker_registry_image' && r.name.startsWith(`${id}_`))?.instances[0].attributes.sha256_digest;
    const digest = digestOf('hello');
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(container.image).toBe(`${REGISTRY}/examples/hello-go@${digest}`);

    // The offline mirror: a sidecar on 127.0.0.1, its bundle copied in by two init containers, go pointed at it.
    const sidecar = pod.containers.find((c) => c.name === 'offline-mirror') as Record<string, unknown> & { args: string[] };
    expect(sidecar.image).toBe(`${REGISTRY}/airgap/offline-mirror@${digestOf('mirror')}`);
    expect(sidecar.args).toEqual(['-bundle', '/var/run/offline-mirror/bundle', '-listen', '127.0.0.1:8686', '-sha256sums-hash', bundle.hash]);
    const init = (pod as unknown as { initContainers: Array<{ name: string; image: string }> }).initContainers;
    expect(init.map((c) => c.name)).toEqual(['offline-mirror-tools', 'offline-mirror-bundle']);
    expect(init[1].image).toBe(`${REGISTRY}/airgap/go-bundle@${digestOf('bundle')}`);
    const env = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ GOPROXY: 'http://127.0.0.1:8686,off', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' });
  });

  test('Pod Security restricted is enforced: the ReplicaSet creates the Pods, with no warnings; a root Pod and an escalating Pod are refused', () => {
    const namespace = apps.a.namespace;
    const pods = waitFor('the ReplicaSet controller to create 2 Pods', 60, () => {
      const items = list(['get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=hello']);
      return items.length === 2 ? items : undefined;
    });
    // Created by the controller (so admitted by the API server), Pending for lack of nodes.
    for (const pod of pods) {
      expect(pod.metadata.ownerReferences?.map((o) => o.kind)).toEqual(['ReplicaSet']);
      expect(pod.status).toMatchObject({ phase: 'Pending' });
    }
    const events = list(['get', 'events', '-n', namespace]);
    expect(events.filter((e) => e.type === 'Warning' || /FailedCreate|PodSecurity/.test(`${e.reason} ${e.message}`)).map((e) => `${e.reason}: ${e.message}`)).toEqual([]);

    // The same pod spec through admission again (server-side dry run): no warning at all.
    const dryRun = kubectl(['create', '--dry-run=server', '-f', '-'], podFromDeployment(namespace, 'pss-compliant'));
    expect({ status: dryRun.status, stderr: dryRun.stderr }).toEqual({ status: 0, stderr: '' });

    const root = kubectl(['create', '-f', '-'], podFromDeployment(namespace, 'pss-root', (spec) => {
      spec.securityContext = { ...(spec.securityContext as object), runAsNonRoot: false, runAsUser: 0 };
    }));
    expect(root.status).not.toBe(0);
    expect(root.stderr).toMatch(/forbidden: violates PodSecurity "restricted:v1\.34"/);
    expect(root.stderr).toMatch(/runAsNonRoot != true/);

    const escalating = kubectl(['create', '-f', '-'], podFromDeployment(namespace, 'pss-escalation', (spec) => {
      spec.containers[0].securityContext = { ...(spec.containers[0].securityContext as object), allowPrivilegeEscalation: true };
    }));
    expect(escalating.status).not.toBe(0);
    expect(escalating.stderr).toMatch(/violates PodSecurity "restricted:v1\.34": allowPrivilegeEscalation != false/);
    expect(list(['get', 'pods', '-n', namespace]).map((p) => p.metadata.name).filter((n) => n.startsWith('pss-'))).toEqual([]);
  });

  test('the quota is enforced: a Pod asking for more CPU than the namespace has is refused', () => {
    const namespace = apps.a.namespace;
    const big = kubectl(['create', '-f', '-'], podFromDeployment(namespace, 'too-big', (spec) => {
      // Below the LimitRange max (2 CPU a container), above what the quota has left.
      spec.containers[0].resources = { requests: { cpu: '1900m', memory: '64Mi' }, limits: { cpu: '1900m', memory: '256Mi' } };
    }));
    expect(big.status).not.toBe(0);
    // 1900m for hello-go plus 10m for the mirror sidecar.
    expect(big.stderr).toMatch(/exceeded quota: preview-quota, requested: .*requests\.cpu=1910m/);
    const huge = kubectl(['create', '-f', '-'], podFromDeployment(namespace, 'too-big-container', (spec) => {
      spec.containers[0].resources = { requests: { cpu: '3', memory: '64Mi' }, limits: { cpu: '3', memory: '256Mi' } };
    }));
    expect(huge.stderr).toMatch(/maximum cpu usage per Container is 2, but limit is 3/);
    const used = getJson<{ status: { used: Record<string, string> } }>(['get', 'resourcequota', 'preview-quota', '-n', namespace]);
    // The two admitted replicas (hello-go 100m/500m + mirror 10m/200m each) are what the quota counts, and nothing else.
    expect(used.status.used).toMatchObject({ pods: '2', 'requests.cpu': '220m', 'limits.cpu': '1400m', 'requests.memory': '192Mi' });
  });

  test('kube-score on the objects read back: no critical finding but the deliberate ones', () => {
    const objects = list(['get', 'deployments,services,networkpolicies,poddisruptionbudgets,ingresses', '-n', apps.a.namespace]);
    expect(objects.length).toBeGreaterThanOrEqual(8);
    const findings = kubeScore(objects);
    process.stdout.write(`kube-score findings (main.ts preview):\n${findings.map((f) => `  ${f.line}`).join('\n')}\n`);
    expect(undeliberateCritical(findings)).toEqual([]);
  });

  test('no drift: tofu plan right after apply has nothing to do', () => {
    const plan = tofu(apps.a.outdir, 'preview', ['plan', '-detailed-exitcode']);
    expect({ status: plan.status, plan: plan.status === 0 ? '' : `${plan.stdout}${plan.stderr}` }).toEqual({ status: 0, plan: '' });
  });
});

test('two previews coexist in distinct namespaces; destroying one leaves the other intact', () => {
  applyStack(apps.b.outdir, 'preview');
  const a = apps.a.namespace;
  const b = apps.b.namespace;
  expect(b).toBe('preview-pr-42-' + b.slice(-10));
  expect(a).not.toBe(b);
  for (const n of [a, b]) {
    expect(getJson<{ status: { phase: string } }>(['get', 'namespace', n]).status.phase).toBe('Active');
    expect(list(['get', 'deployments', '-n', n]).map((d) => d.metadata.name)).toEqual(['hello']);
  }
  const planB = tofu(apps.b.outdir, 'preview', ['plan', '-detailed-exitcode']);
  expect({ status: planB.status, plan: planB.status === 0 ? '' : planB.stdout }).toEqual({ status: 0, plan: '' });

  const destroy = tofu(apps.b.outdir, 'preview', ['destroy', '-auto-approve']);
  expect({ status: destroy.status, out: destroy.status === 0 ? '' : `${destroy.stdout}${destroy.stderr}` }).toEqual({ status: 0, out: '' });
  expect(kubectl(['get', 'namespace', b]).stderr).toMatch(/NotFound/);

  // A is untouched: same objects, still no drift.
  expect(getJson<{ status: { phase: string } }>(['get', 'namespace', a]).status.phase).toBe('Active');
  expect(list(['get', 'networkpolicies', '-n', a])).toHaveLength(4);
  expect(list(['get', 'deployments', '-n', a])).toHaveLength(1);
  const planA = tofu(apps.a.outdir, 'preview', ['plan', '-detailed-exitcode']);
  expect({ status: planA.status, plan: planA.status === 0 ? '' : planA.stdout }).toEqual({ status: 0, plan: '' });
});

test('tofu destroy removes the namespace completely, within the delete timeout, and nothing of ours remains', () => {
  const namespace = apps.a.namespace;
  const started = Date.now();
  const destroy = tofu(apps.a.outdir, 'preview', ['destroy', '-auto-approve']);
  const seconds = (Date.now() - started) / 1000;
  expect({ status: destroy.status, out: destroy.status === 0 ? '' : `${destroy.stdout}${destroy.stderr}` }).toEqual({ status: 0, out: '' });
  // The provider returns only once the namespace is gone; the configured timeout is 10m.
  expect(seconds).toBeLessThan(600);
  expect(kubectl(['get', 'namespace', namespace]).stderr).toMatch(/NotFound/);

  // Every listable type, namespaced or not, across the whole API.
  const types = ns.run(toolchain().kube.AGC_KUBECTL, ['api-resources', '--verbs=list', '-o', 'name']).trim().split('\n').filter((t) => t !== 'events' && t !== 'events.events.k8s.io');
  const everything = list(['get', types.join(','), '--all-namespaces']);
  expect(everything.length).toBeGreaterThan(10); // the listing really covers the cluster
  const ours = everything.filter((o) =>
    o.metadata.namespace?.startsWith('preview-') ||
    o.metadata.name.startsWith('preview-') ||
    Object.keys(o.metadata.labels ?? {}).some((k) => k.startsWith('airgap-go-constructs.io/')),
  );
  expect(ours.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([]);
});

test('main.ts as a fleet (PREVIEW_BRANCHES): the image stack and two previews keep state in the cluster; the previews read the digest from its Secret, applied in parallel', async () => {
  const t = toolchain();
  const branches = ['fleet/one', 'fleet/two'];
  const { outdir, r } = runMain('fleet-', { PREVIEW_BRANCHES: branches.join(',') });
  if (r.status !== 0) throw new Error(`fleet synth failed:\n${String(r.stderr)}\n${String(r.stdout)}`);
  symlinkSync(t.mirror, join(outdir, 'providers'));
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, unknown> };
  const previews = Object.keys(manifest.stacks).filter((s) => s !== 'images').sort();
  expect(previews).toHaveLength(2);
  // The state namespace exists before the first init (StateBackendAccess makes it in a real cluster).
  ns.run(t.kube.AGC_KUBECTL, ['create', 'namespace', 'airgap-state']);
  for (const args of [['init'], ['apply', '-auto-approve']]) {
    const step = tofu(outdir, 'images', args);
    if (step.status !== 0) throw new Error(`tofu ${args[0]} of the fleet's image stack exited ${step.status}:\n${step.stdout}\n${step.stderr}`);
  }
  // No runner holds any state: no file beside the stacks, and the image stack's is a Secret.
  expect(readdirSync(join(outdir, 'stacks', 'images')).filter((f) => f.includes('tfstate'))).toEqual([]);
  const images = getJson<{ data: { tfstate: string } }>(['-n', 'airgap-state', 'get', 'secret', 'tfstate-default-images']);
  const imageState = JSON.parse(gunzipSync(Buffer.from(images.data.tfstate, 'base64')).toString('utf8')) as { outputs: Record<string, { value: string }> };
  const [digest] = Object.entries(imageState.outputs).filter(([k]) => k.includes('sha256_digest')).map(([, v]) => v.value);
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

  const env = { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };
  const applied = await Promise.all(
    previews.map(async (stack) => {
      const cwd = join(outdir, 'stacks', stack);
      const init = await ns.execAsync(t.tofu, ['init', '-no-color', '-input=false'], { cwd, env });
      if (init.status !== 0) return { stack, status: init.status, out: `${init.stdout}${init.stderr}` };
      const apply = await ns.execAsync(t.tofu, ['apply', '-auto-approve', '-no-color', '-input=false'], { cwd, env });
      return { stack, status: apply.status, out: apply.status === 0 ? '' : `${apply.stdout}${apply.stderr}` };
    }),
  );
  expect(applied).toEqual(previews.map((stack) => ({ stack, status: 0, out: '' })));
  for (const [i, stack] of previews.entries()) {
    const config = JSON.parse(readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as { resource: { kubernetes_namespace_v1: Record<string, { metadata: { name: string } }> } };
    const [namespace] = Object.values(config.resource.kubernetes_namespace_v1).map((n) => n.metadata.name);
    expect(getJson<{ metadata: { annotations: Record<string, string> } }>(['get', 'namespace', namespace]).metadata.annotations['airgap-go-constructs.io/branch']).toBe(branches[i]);
    const deployment = getJson<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(['get', 'deployment', 'hello', '-n', namespace]);
    expect(deployment.spec.template.spec.containers[0].image).toBe(`${REGISTRY}/examples/hello-go@${digest}`);
    expect(list(['-n', 'airgap-state', 'get', 'secrets']).map((s) => s.metadata.name)).toContain(`tfstate-default-${stack}`);
    const plan = tofu(outdir, stack, ['plan', '-detailed-exitcode']);
    expect({ stack, status: plan.status, plan: plan.status === 0 ? '' : plan.stdout }).toEqual({ stack, status: 0, plan: '' });
  }
  for (const stack of [...previews, 'images']) {
    const destroy = tofu(outdir, stack, ['destroy', '-auto-approve']);
    expect({ stack, status: destroy.status, out: destroy.status === 0 ? '' : `${destroy.stdout}${destroy.stderr}` }).toEqual({ stack, status: 0, out: '' });
  }
  ns.run(t.kube.AGC_KUBECTL, ['delete', 'namespace', 'airgap-state']);
});
