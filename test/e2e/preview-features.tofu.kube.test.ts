/**
 * Engines: the real control plane of scripts/kube/up.sh (etcd, kube-apiserver,
 * kube-controller-manager) and OpenTofu with the kubernetes provider from the
 * filesystem mirror, in a network namespace with only loopback; kube-score
 * (built by scripts/go-tools.sh) as the third-party checker.
 *
 * test/fixtures/preview-features/main.ts is a second app: two services, the
 * namespace mirror, a pull secret from a sensitive variable, env from a Secret,
 * a metrics port and a topology spread. It must apply, its Pods must be
 * admitted under "restricted", the plan after apply must be empty, and
 * kube-score must find nothing critical in the objects read back from the API
 * server beyond the deliberate exceptions the README lists.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ROOT } from '../support/engine';
import { kubectlIn, waitFor } from '../support/kubectl';
import { LoopbackNetns, NetnsResult } from '../support/netns';
import { kubeScore, undeliberateCritical } from '../support/kube-score';
import { goTool, toolchain } from '../support/toolchain';

jest.setTimeout(20 * 60 * 1000);

const REGISTRY_PASSWORD = 'registry-pass-7f3a9c1e5b';
const DATABASE_PASSWORD = 'database-pass-2d8e4b6a0c';
const SECRETS = { TF_VAR_registry_password: REGISTRY_PASSWORD, TF_VAR_database_password: DATABASE_PASSWORD };


let ns: LoopbackNetns;
let work: string;
let outdir: string;
let namespace: string;

function tofu(args: readonly string[]): NetnsResult {
  return ns.exec(toolchain().tofu, [...args, '-no-color', '-input=false'], {
    cwd: join(outdir, 'stacks', 'features'),
    env: { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', ...SECRETS },
  });
}

const { getJson, list } = kubectlIn(() => ns);

beforeAll(() => {
  const t = toolchain();
  goTool('kube_score');
  work = mkdtempSync(join(tmpdir(), 'agc-features-e2e-'));
  outdir = join(work, 'app');
  const r = spawnSync(process.execPath, ['--require', 'ts-node/register/transpile-only', join(ROOT, 'test/fixtures/preview-features/main.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDKTF_OUTDIR: outdir, KUBERNETES_PROVIDER_VERSION: t.versions.kubernetes },
  });
  if (r.status !== 0) throw new Error(`synth failed:\n${r.stderr}\n${r.stdout}`);
  symlinkSync(t.mirror, join(outdir, 'providers'));
  const config = JSON.parse(readFileSync(join(outdir, 'stacks/features/cdk.tf.json'), 'utf8')) as { resource: { kubernetes_namespace_v1: Record<string, { metadata: { name: string } }> } };
  [namespace] = Object.values(config.resource.kubernetes_namespace_v1).map((n) => n.metadata.name);
  ns = LoopbackNetns.create('feat');
  ns.startKube(t.kube);
});

afterAll(() => {
  if (outdir && ns) {
    const r = tofu(['destroy', '-auto-approve']);
    if (r.status !== 0) process.stderr.write(`destroy failed: ${r.stdout}${r.stderr}\n`);
  }
  ns?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('no credential is written into the synthesized output', () => {
  const out = spawnSync('grep', ['-r', '-l', '-e', REGISTRY_PASSWORD, '-e', DATABASE_PASSWORD, outdir], { encoding: 'utf8' });
  expect(out.stdout).toBe('');
  const json = readFileSync(join(outdir, 'stacks/features/cdk.tf.json'), 'utf8');
  expect(json).toContain('var.registry_password');
});

test('the second app applies; the API server holds every object with the fields that matter', () => {
  for (const args of [['init'], ['apply', '-auto-approve']]) {
    const r = tofu(args);
    if (r.status !== 0) throw new Error(`tofu ${args[0]} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  const names = (kind: string) => list(['get', kind, '-n', namespace]).map((o) => o.metadata.name).sort();
  expect(names('deployments')).toEqual(['api', 'offline-mirror', 'worker']);
  // Least privilege: only the routed service accepts the ingress controller; the mirror accepts the environment's pods; Prometheus reaches the metrics port.
  expect(names('networkpolicies')).toEqual(['allow-dns', 'allow-ingress-controller-api', 'allow-monitoring-api', 'allow-offline-mirror', 'allow-same-namespace', 'default-deny']);
  const mirrorPolicy = getJson<{ spec: { ingress: Array<{ from: Array<Record<string, unknown>> }> } }>(['get', 'networkpolicy', 'allow-offline-mirror', '-n', namespace]);
  expect(mirrorPolicy.spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/managed-by': 'terraform', 'app.kubernetes.io/part-of': 'preview' } } }]);

  const pull = getJson<{ type: string; data: Record<string, string> }>(['get', 'secret', 'registry-credentials', '-n', namespace]);
  expect(pull.type).toBe('kubernetes.io/dockerconfigjson');
  const config = JSON.parse(Buffer.from(pull.data['.dockerconfigjson'], 'base64').toString('utf8')) as { auths: Record<string, { username: string; password: string; auth: string }> };
  const [auth] = Object.values(config.auths);
  expect(auth).toEqual({ username: 'preview', password: REGISTRY_PASSWORD, auth: Buffer.from(`preview:${REGISTRY_PASSWORD}`).toString('base64') });

  const defaultSa = getJson<{ automountServiceAccountToken?: boolean }>(['get', 'serviceaccount', 'default', '-n', namespace]);
  expect(defaultSa.automountServiceAccountToken).toBe(false);

  const api = getJson<{ spec: { template: { metadata: { annotations: Record<string, string> }; spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } } } }>(['get', 'deployment', 'api', '-n', namespace]);
  const pod = api.spec.template.spec;
  expect(api.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
  expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
  expect(pod.topologySpreadConstraints).toEqual([expect.objectContaining({ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' })]);
  expect(pod.containers[0].env).toEqual([{ name: 'DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: 'database', key: 'password', optional: false } } }]);
  expect(pod.containers[0].resources).toEqual({ requests: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '80Mi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '128Mi' } });

  const quota = getJson<{ spec: { hard: Record<string, string> } }>(['get', 'resourcequota', 'preview-quota', '-n', namespace]);
  expect(quota.spec.hard).toMatchObject({ 'requests.ephemeral-storage': '8Gi', persistentvolumeclaims: '0', 'requests.storage': '0' });
});

test('every Pod is admitted under restricted, with no warning; the quota counts their ephemeral storage', () => {
  const pods = waitFor('4 Pods (api 2, worker 1, mirror 1)', 90, () => {
    const items = list(['get', 'pods', '-n', namespace]);
    return items.length === 4 ? items : undefined;
  });
  for (const pod of pods) expect(pod.metadata.ownerReferences?.map((o) => o.kind)).toEqual(['ReplicaSet']);
  const events = list(['get', 'events', '-n', namespace]);
  expect(events.filter((e) => e.type === 'Warning' || /FailedCreate|PodSecurity/.test(`${e.reason} ${e.message}`)).map((e) => `${e.reason}: ${e.message}`)).toEqual([]);
  const used = getJson<{ status: { used: Record<string, string> } }>(['get', 'resourcequota', 'preview-quota', '-n', namespace]);
  // api 2 x 80Mi, worker 80Mi, mirror: its bundle emptyDir (2Gi) + tools (64Mi) + /tmp (64Mi) + 16Mi.
  expect(used.status.used).toMatchObject({ pods: '4' });
  expect(used.status.used['requests.ephemeral-storage']).toBe(`${3 * 80 + 2048 + 64 + 64 + 16}Mi`);
});

test('no drift: plan -detailed-exitcode right after apply is 0', () => {
  const plan = tofu(['plan', '-detailed-exitcode']);
  expect({ status: plan.status, plan: plan.status === 0 ? '' : `${plan.stdout}${plan.stderr}` }).toEqual({ status: 0, plan: '' });
});

test('kube-score on the objects read back: no critical finding but the deliberate ones', () => {
  const kinds = 'deployments,services,networkpolicies,poddisruptionbudgets,ingresses';
  const objects = list(['get', kinds, '-n', namespace]).map((o) => ({ ...o, apiVersion: (o as unknown as { apiVersion: string }).apiVersion }));
  expect(objects.length).toBeGreaterThan(10);
  const findings = kubeScore(objects);
  process.stdout.write(`kube-score findings:\n${findings.map((f) => `  ${f.line}`).join('\n')}\n`);
  expect(undeliberateCritical(findings)).toEqual([]);
  // The checks the first user's run flagged are gone.
  expect(findings.map((f) => f.check)).not.toContain('container-ephemeral-storage-request-and-limit');
});
