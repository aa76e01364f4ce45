/**
 * Engines: the real control plane of scripts/kube/up.sh and OpenTofu with the
 * kubernetes provider from the filesystem mirror, in a network namespace with
 * only loopback. test/fixtures/state-fleet/main.ts keeps each preview's state
 * in the cluster (KubernetesStateBackend): a Secret per stack, locked with a
 * Lease. The backend runs as a pipeline ServiceAccount bound by
 * StateBackendAccess (its kubeconfig passed with -backend-config, never
 * written into cdk.tf.json); the provider as the administrator. The reaper
 * runs as a ServiceAccount bound by PreviewReaperAccess, and the API server's
 * audit log records every request it makes.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { gunzipSync } from 'zlib';
import { PreviewName, REAPER_VERBS, STATE_VERBS } from '../../lib';
import { kitBinary, ROOT } from '../support/engine';
import { kubectlIn } from '../support/kubectl';
import { rbacResourceOf } from '../support/rbac';
import { LoopbackNetns, NetnsResult } from '../support/netns';
import { toolchain } from '../support/toolchain';

jest.setTimeout(20 * 60 * 1000);

const BRANCHES = ['feature/Login', 'PR-42', 'fix/cache'];
const SLUGS = BRANCHES.map((b) => PreviewName.dnsLabel(b, { prefix: 'preview-' }));
const HOLD_SECONDS = 8;

let ns: LoopbackNetns;
let work: string;
let outdir: string;
let pipelineKubeconfig: string;
let reaperKubeconfig: string;

const { kubectl, getJson, list } = kubectlIn(() => ns);

function tofu(stack: string, args: readonly string[], env: Record<string, string> = {}, app = outdir): NetnsResult {
  return ns.exec(toolchain().tofu, [...args, '-no-color', '-input=false'], {
    cwd: join(app, 'stacks', stack),
    env: { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', ...env },
  });
}

function ok(r: NetnsResult, what: string): NetnsResult {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** init with the pipeline's identity for the backend only (-backend-config: nothing of it in cdk.tf.json). */
function init(stack: string, app = outdir): NetnsResult {
  return tofu(stack, ['init', '-reconfigure', `-backend-config=config_path=${pipelineKubeconfig}`], {}, app);
}

/** A kubeconfig for the ServiceAccount ci/<name>, from a bound token, beside the admin's cluster entry. */
function writeServiceAccountKubeconfig(name: string): string {
  if (kubectl(['get', 'namespace', 'ci']).status !== 0) ok(kubectl(['create', 'namespace', 'ci']), 'create namespace ci');
  ok(kubectl(['-n', 'ci', 'create', 'serviceaccount', name]), `create serviceaccount ${name}`);
  const token = ok(kubectl(['-n', 'ci', 'create', 'token', name, '--duration=2h']), 'create token').stdout.trim();
  const admin = getJson<{ clusters: Array<{ cluster: Record<string, string> }> }>(['config', 'view', '--raw', '--minify']);
  const file = join(work, `${name}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: admin.clusters[0].cluster }],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: 'local', user: name } }],
      'current-context': name,
    }),
  );
  return file;
}

/** Synthesizes the fleet app for `branches` into `dir`, with the provider mirror beside it. */
function synthFleet(dir: string, branches: readonly string[], extra: Record<string, string> = {}): void {
  const t = toolchain();
  const r = spawnSync(process.execPath, ['--require', 'ts-node/register/transpile-only', join(ROOT, 'test/fixtures/state-fleet/main.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDKTF_OUTDIR: dir, KUBERNETES_PROVIDER_VERSION: t.versions.kubernetes, PREVIEW_BRANCHES: branches.join(','), PIPELINE_SA: 'ci/pipeline', REAPER_SA: 'ci/reaper', ...extra },
  });
  if (r.status !== 0) throw new Error(`synth failed:\n${r.stderr}\n${r.stdout}`);
  symlinkSync(t.mirror, join(dir, 'providers'));
}

beforeAll(() => {
  const t = toolchain();
  work = mkdtempSync(join(tmpdir(), 'agc-state-e2e-'));
  outdir = join(work, 'app');
  synthFleet(outdir, BRANCHES, { LOCK_HOLD_SECONDS: String(HOLD_SECONDS) });
  ns = LoopbackNetns.create('state');
  // Audit only what the reaper's identity asks of the API server.
  const auditPolicy = join(work, 'audit-policy.json');
  writeFileSync(auditPolicy, JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'], rules: [{ level: 'Metadata', users: ['system:serviceaccount:ci:reaper'] }, { level: 'None' }] }));
  ns.startKube({ ...t.kube, AGC_KUBE_AUDIT_POLICY: auditPolicy });
  pipelineKubeconfig = writeServiceAccountKubeconfig('pipeline');
  reaperKubeconfig = writeServiceAccountKubeconfig('reaper');
  // The administrator's stack: the state namespace and the Role, with local state.
  ok(tofu('state', ['init']), 'tofu init (state)');
  ok(tofu('state', ['apply', '-auto-approve']), 'tofu apply (state)');
});

afterAll(() => {
  ns?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('cdk.tf.json names the backend by secret suffix and namespace only: no path, no credential', () => {
  for (const slug of SLUGS) {
    const text = readFileSync(join(outdir, 'stacks', slug, 'cdk.tf.json'), 'utf8');
    const backend = (JSON.parse(text) as { terraform: { backend: Record<string, unknown> } }).terraform.backend;
    expect(backend).toEqual({ kubernetes: { secret_suffix: slug, namespace: 'airgap-state', labels: { 'airgap-go-constructs.io/preview': 'true', 'airgap-go-constructs.io/stack': slug } } });
    expect(text).not.toContain(work);
    expect(text).not.toMatch(/config_path|"token"|client_key|client_certificate/);
  }
});

test('three previews apply with their state in the cluster: one Secret each, no local state file, plan 0', () => {
  for (const slug of SLUGS) {
    ok(init(slug), `tofu init (${slug})`);
    ok(tofu(slug, ['apply', '-auto-approve']), `tofu apply (${slug})`);
  }
  const secrets = list(['-n', 'airgap-state', 'get', 'secrets', '-l', 'app.kubernetes.io/managed-by=terraform']);
  expect(secrets.map((s) => s.metadata.name).sort()).toEqual(SLUGS.map((s) => `tfstate-default-${s}`).sort());
  for (const s of secrets) expect(s.metadata.labels).toMatchObject({ 'airgap-go-constructs.io/preview': 'true', 'airgap-go-constructs.io/stack': s.metadata.labels?.tfstateSecretSuffix });
  for (const slug of SLUGS) {
    expect(readdirSync(join(outdir, 'stacks', slug)).filter((f) => f.endsWith('.tfstate') || f.endsWith('.tfstate.backup'))).toEqual([]);
    expect(existsSync(join(outdir, 'stacks', slug, 'terraform.tfstate'))).toBe(false);
    const plan = tofu(slug, ['plan', '-detailed-exitcode']);
    expect({ slug, status: plan.status, out: plan.status === 0 ? '' : plan.stdout }).toEqual({ slug, status: 0, out: '' });
  }
});

test('two concurrent applies of one preview: one holds the lock, the other fails fast with the lock error; then plan 0', async () => {
  const slug = SLUGS[0];
  // Replace the holder so the first apply runs its sleep, and holds the lock that long.
  const run = (replace: boolean) =>
    ns.execAsync(toolchain().tofu, ['apply', '-auto-approve', '-no-color', '-input=false', ...(replace ? ['-replace=terraform_data.hold'] : [])], {
      cwd: join(outdir, 'stacks', slug),
      env: { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
    });
  const first = run(true);
  await new Promise((r) => setTimeout(r, 2500));
  const second = await run(false);
  const holder = await first;
  const secondOut = `${second.stdout}${second.stderr}`;
  process.stdout.write(`lock test, second apply (exit ${second.status}):\n${secondOut}\n`);
  expect({ status: holder.status, out: holder.status === 0 ? '' : `${holder.stdout}${holder.stderr}` }).toEqual({ status: 0, out: '' });
  expect(second.status).toBe(1);
  expect(secondOut).toContain('Error acquiring the state lock');
  expect(secondOut).toContain('the state is already locked by another tofu client');
  expect(secondOut).toContain('Operation: OperationTypeApply');
  // It failed while the holder still ran: it did not wait for the lock.
  expect(second.endedAt).toBeLessThan(holder.endedAt);
  const plan = tofu(slug, ['plan', '-detailed-exitcode']);
  expect({ status: plan.status, out: plan.status === 0 ? '' : plan.stdout }).toEqual({ status: 0, out: '' });
  // The lock is released: its Lease has no holder.
  const lease = getJson<{ spec: { holderIdentity?: string } }>(['-n', 'airgap-state', 'get', 'lease', `lock-tfstate-default-${slug}`]);
  expect(lease.spec.holderIdentity ?? '').toBe('');
});

test('the Role is least privilege: the pipeline identity runs init, apply and destroy with it, and fails without any one of its verbs', () => {
  const cycle = () => {
    const steps = [init('probe'), tofu('probe', ['apply', '-auto-approve']), tofu('probe', ['destroy', '-auto-approve'])];
    return steps.find((s) => s.status !== 0);
  };
  expect(cycle()).toBeUndefined();
  const role = getJson<{ rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }>(['-n', 'airgap-state', 'get', 'role', 'terraform-state']);
  const withoutFresh = (resource: 'secrets' | 'leases', verb: string) => {
    // A fresh state each time, so creation is exercised too.
    kubectl(['-n', 'airgap-state', 'delete', 'secret', 'tfstate-default-probe', '--ignore-not-found']);
    kubectl(['-n', 'airgap-state', 'delete', 'lease', 'lock-tfstate-default-probe', '--ignore-not-found']);
    const rules = role.rules.map((r) => (r.resources[0] === resource ? { ...r, verbs: r.verbs.filter((v) => v !== verb) } : r));
    ok(kubectl(['-n', 'airgap-state', 'patch', 'role', 'terraform-state', '--type=json', `-p=${JSON.stringify([{ op: 'replace', path: '/rules', value: rules }])}`]), 'patch role');
    const failed = cycle();
    return failed ? 'refused' : 'allowed';
  };
  const outcome: Record<string, string> = {};
  for (const verb of STATE_VERBS.secrets) outcome[`secrets/${verb}`] = withoutFresh('secrets', verb);
  for (const verb of STATE_VERBS.leases) outcome[`leases/${verb}`] = withoutFresh('leases', verb);
  ok(kubectl(['-n', 'airgap-state', 'patch', 'role', 'terraform-state', '--type=json', `-p=${JSON.stringify([{ op: 'replace', path: '/rules', value: role.rules }])}`]), 'restore role');
  process.stdout.write(`least privilege, the cycle without each verb: ${JSON.stringify(outcome)}\n`);
  expect(outcome).toEqual(Object.fromEntries(Object.keys(outcome).map((k) => [k, 'refused'])));
  // And with the Role restored, the same cycle passes again: the refusals were the verbs'.
  // A refused unlock leaves its Lease held: clear both, as an operator would with force-unlock.
  kubectl(['-n', 'airgap-state', 'delete', 'secret', 'tfstate-default-probe', '--ignore-not-found']);
  kubectl(['-n', 'airgap-state', 'delete', 'lease', 'lock-tfstate-default-probe', '--ignore-not-found']);
  expect(cycle()).toBeUndefined();
  // Nothing beyond the state namespace: the pipeline cannot read Secrets elsewhere.
  const elsewhere = ns.exec(toolchain().kube.AGC_KUBECTL, ['--kubeconfig', pipelineKubeconfig, '-n', 'ci', 'get', 'secrets']);
  expect(elsewhere.status).not.toBe(0);
  expect(elsewhere.stderr).toContain('forbidden');
});

test('20 previews applied by 4 parallel workers: every apply succeeds, each has its own consistent state, plan 0', async () => {
  const fleet = join(work, 'fleet');
  const branches = Array.from({ length: 20 }, (_, i) => `fleet/pr-${i + 100}`);
  synthFleet(fleet, branches);
  const slugs = branches.map((b) => PreviewName.dnsLabel(b, { prefix: 'preview-' }));
  const env = { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' };
  const queue = [...slugs];
  const results: Array<{ slug: string; step: string; status: number; out: string }> = [];
  const worker = async () => {
    for (let slug = queue.shift(); slug !== undefined; slug = queue.shift()) {
      const cwd = join(fleet, 'stacks', slug);
      for (const [step, args] of [
        ['init', ['init', '-reconfigure', `-backend-config=config_path=${pipelineKubeconfig}`]],
        ['apply', ['apply', '-auto-approve']],
      ] as Array<[string, string[]]>) {
        const r = await ns.execAsync(toolchain().tofu, [...args, '-no-color', '-input=false'], { cwd, env });
        results.push({ slug, step, status: r.status, out: r.status === 0 ? '' : `${r.stdout}${r.stderr}` });
        if (r.status !== 0) break;
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  expect(results.filter((r) => r.status !== 0)).toEqual([]);
  expect(results.filter((r) => r.step === 'apply')).toHaveLength(20);
  // Each preview's Secret holds its own state: its namespace and nothing of another's.
  for (const slug of slugs) {
    const secret = getJson<{ data: { tfstate: string } }>(['-n', 'airgap-state', 'get', 'secret', `tfstate-default-${slug}`]);
    const state = JSON.parse(gunzipSync(Buffer.from(secret.data.tfstate, 'base64')).toString('utf8')) as { serial: number; resources: Array<{ type: string; instances: Array<{ attributes: { metadata?: Array<{ name: string }> } }> }> };
    const namespaces = state.resources.filter((r) => r.type === 'kubernetes_namespace_v1').map((r) => r.instances[0].attributes.metadata?.[0].name);
    expect(namespaces).toEqual([slug]);
    const plan = tofu(slug, ['plan', '-detailed-exitcode'], {}, fleet);
    expect({ slug, status: plan.status, out: plan.status === 0 ? '' : plan.stdout }).toEqual({ slug, status: 0, out: '' });
  }
  expect(list(['get', 'namespaces', '-l', 'airgap-go-constructs.io/preview=true']).filter((n) => n.metadata.name.startsWith('preview-fleet-'))).toHaveLength(20);
});

interface Listed {
  state?: { secret: string };
  namespaces: string[];
  branch?: string;
  expiresAt?: string;
  verdict: string;
  reason: string;
}

test('the reaper destroys expired previews through Terraform, with the clock as an argument; the dry run changes nothing; a held lock stops it; the rest are untouched', async () => {
  const app = join(work, 'reap');
  // old expires 2026-11-23T00:00Z, new 2026-11-29T00:00Z; forever has no createdAt. Every earlier preview expires 2026-11-25T10:00Z.
  const branches = ['reap/old', 'reap/new', 'reap/forever'];
  // The first branch (old) can hold its lock on apply, as a pipeline in the middle of one would.
  synthFleet(app, branches, { PREVIEW_CREATED_AT: JSON.stringify({ 'reap/old': '2026-11-20T00:00:00Z', 'reap/new': '2026-11-26T00:00:00Z', 'reap/forever': null }), PLAIN_STACK: '1', LOCK_HOLD_SECONDS: String(HOLD_SECONDS) });
  const [old, fresh, forever] = branches.map((b) => PreviewName.dnsLabel(b, { prefix: 'preview-' }));
  for (const stack of [old, fresh, forever, 'plain']) {
    ok(init(stack, app), `tofu init (${stack})`);
    ok(tofu(stack, ['apply', '-auto-approve'], {}, app), `tofu apply (${stack})`);
  }
  // Namespaces no state holds: one without our preview label, one with it (say, a preview with local state).
  ok(kubectl(['create', 'namespace', 'stray-unlabeled']), 'create stray');
  ok(kubectl(['label', 'namespace', 'stray-unlabeled', 'airgap-go-constructs.io/expires-at=20200101T000000Z']), 'label stray');
  ok(kubectl(['create', 'namespace', 'preview-local-orphan']), 'create orphan');
  ok(kubectl(['label', 'namespace', 'preview-local-orphan', 'airgap-go-constructs.io/preview=true', 'airgap-go-constructs.io/expires-at=20200101T000000Z']), 'label orphan');

  // The reaper's Terraform gets the provider mirror by absolute path, and the previews' own lock file.
  const cliConfig = join(work, 'reaper.tofurc');
  writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path    = "${toolchain().mirror}"\n    include = ["registry.opentofu.org/*/*"]\n  }\n}\n`);
  const kit = kitBinary();
  // As the reaper's own ServiceAccount, bound by PreviewReaperAccess: nothing of the administrator's in its environment.
  // Its Terraform finds providers through TF_CLI_CONFIG_FILE, or, with -provider-mirror, through a CLI configuration of the reaper's own.
  const reaperAs = (kubeconfig: string, args: readonly string[]) => {
    const viaFlag = args.includes('-provider-mirror');
    return ns.exec('env', ['-u', 'KUBECONFIG', '-u', 'KUBE_CONFIG_PATH', ...(viaFlag ? ['-u', 'TF_CLI_CONFIG_FILE'] : []), kit, 'previews', ...args, '-kubeconfig', kubeconfig, ...(args[0] === 'reap' ? ['-tofu', toolchain().tofu] : [])], {
      env: viaFlag ? {} : { TF_CLI_CONFIG_FILE: cliConfig },
    });
  };
  const reaper = (args: readonly string[]) => reaperAs(reaperKubeconfig, args);
  // An identity without PreviewReaperAccess (the pipeline's) is refused, and told what to bind.
  const refused = reaperAs(pipelineKubeconfig, ['list']);
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toContain('listing namespaces');
  expect(refused.stderr).toContain('forbidden');
  expect(refused.stderr).toContain('PreviewReaperAccess');
  const lockFile = join(app, 'stacks', old, '.terraform.lock.hcl');
  const NOW = '2026-11-24T00:00:00Z';

  // What is in the cluster, to compare before and after: every object's resourceVersion.
  const snapshot = () => {
    const versions = (items: Array<{ metadata: { name: string; resourceVersion?: string } }>) => Object.fromEntries(items.map((i) => [i.metadata.name, i.metadata.resourceVersion]));
    return {
      namespaces: versions(list(['get', 'namespaces'])),
      secrets: versions(list(['-n', 'airgap-state', 'get', 'secrets'])),
      leases: versions(list(['-n', 'airgap-state', 'get', 'leases'])),
    };
  };

  const listed = reaper(['list', '-now', NOW, '-json']);
  expect(listed.status).toBe(0);
  const previews = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as Listed);
  const verdict = (name: string) => previews.find((p) => p.state?.secret === `tfstate-default-${name}` || (!p.state && p.namespaces[0] === name));
  expect(verdict(old)).toMatchObject({ namespaces: [old], branch: 'reap/old', expiresAt: '2026-11-23T00:00:00Z', verdict: 'expired' });
  expect(verdict(fresh)).toMatchObject({ namespaces: [fresh], expiresAt: '2026-11-29T00:00:00Z', verdict: 'live' });
  expect(verdict(forever)).toMatchObject({ namespaces: [forever], verdict: 'no-expiry' });
  expect(verdict('preview-local-orphan')).toMatchObject({ verdict: 'no-state' });
  for (const slug of SLUGS) expect(verdict(slug)).toMatchObject({ verdict: 'live', expiresAt: '2026-11-25T10:00:00Z' });
  // Neither the plain stack nor the unlabelled namespace is a preview: not even listed.
  expect(previews.filter((p) => p.state?.secret === 'tfstate-default-plain' || p.namespaces.includes('stray-unlabeled') || p.namespaces.includes('plain-platform'))).toEqual([]);
  expect(previews.filter((p) => p.verdict === 'expired').map((p) => p.state?.secret)).toEqual([`tfstate-default-${old}`]);
  const table = reaper(['list', '-now', NOW]);
  process.stdout.write(`airgap-kit previews list -now ${NOW}:\n${table.stdout}\n`);
  expect(table.stdout).toMatch(new RegExp(`tfstate-default-${old}\\s+${old}\\s+reap/old\\s+2026-11-23T00:00:00Z\\s+expired\\s+expired 2026-11-23T00:00:00Z, 24h0m0s before now`));

  const untouchedBut = (o: Record<string, string | undefined>, gone: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== gone));
  const before = snapshot();
  const dry = reaper(['reap', '-dry-run', '-now', NOW]);
  process.stdout.write(`airgap-kit previews reap -dry-run -now ${NOW} (exit ${dry.status}):\n${dry.stdout}${dry.stderr}\n`);
  expect(dry.status).toBe(0);
  expect(dry.stdout).toContain(`would reap tfstate-default-${old} (namespace ${old}, branch "reap/old"): expired 2026-11-23T00:00:00Z`);
  expect(dry.stdout).toMatch(/would reap 1, kept \d+, failed 0/);
  expect(snapshot()).toEqual(before);
  // Later, everything with an expiry would go; still never the preview without one, nor what is not ours.
  const later = reaper(['reap', '-dry-run', '-now', '2026-12-31T00:00:00Z', '-json']);
  const actions = later.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; preview: Listed });
  const wouldGo = actions.filter((a) => a.action === 'would-reap').map((a) => a.preview.state?.secret);
  expect(wouldGo).toEqual(expect.arrayContaining([old, fresh, ...SLUGS].map((s) => `tfstate-default-${s}`)));
  expect(wouldGo).not.toContain(`tfstate-default-${forever}`);
  expect(wouldGo).not.toContain('tfstate-default-plain');
  expect(snapshot()).toEqual(before);

  // A pipeline is applying the expired preview right now: the reaper meets its lock, says so, exits 1, and changes nothing.
  const holder = ns.execAsync(toolchain().tofu, ['apply', '-auto-approve', '-no-color', '-input=false', '-replace=terraform_data.hold'], {
    cwd: join(app, 'stacks', old),
    env: { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
  });
  await new Promise((r) => setTimeout(r, 2500));
  const locked = reaper(['reap', '-now', NOW, '-lock-file', lockFile]);
  const held = await holder;
  process.stdout.write(`airgap-kit previews reap while a pipeline holds the lock (exit ${locked.status}):\n${locked.stdout}${locked.stderr}\n`);
  expect({ status: held.status, out: held.status === 0 ? '' : `${held.stdout}${held.stderr}` }).toEqual({ status: 0, out: '' });
  expect(locked.status).toBe(1);
  expect(locked.stdout).toContain(`FAILED to reap tfstate-default-${old}`);
  expect(locked.stdout).toContain('Error acquiring the state lock');
  expect(locked.stdout).toMatch(/reaped 0, kept \d+, failed 1/);
  expect(kubectl(['get', 'namespace', old]).status).toBe(0);
  const afterLock = snapshot();
  // Only the holder's own apply moved its state; everything else is as before.
  expect(untouchedBut(afterLock.secrets, `tfstate-default-${old}`)).toEqual(untouchedBut(before.secrets, `tfstate-default-${old}`));
  expect(afterLock.secrets[`tfstate-default-${old}`]).toBeDefined();
  expect(afterLock.namespaces).toEqual(before.namespaces);

  const reap = reaper(['reap', '-now', NOW, '-lock-file', lockFile, '-provider-mirror', toolchain().mirror]);
  process.stdout.write(`airgap-kit previews reap -now ${NOW} (exit ${reap.status}):\n${reap.stdout}${reap.stderr}\n`);
  expect({ status: reap.status, out: reap.status === 0 ? '' : `${reap.stdout}${reap.stderr}` }).toEqual({ status: 0, out: '' });
  expect(reap.stdout).toMatch(new RegExp(`reaped tfstate-default-${old} \\(namespace ${old}, branch "reap/old"\\): expired 2026-11-23T00:00:00Z, 24h0m0s before now \\(${NOW}\\); tofu applied an empty configuration with its backend and destroyed (\\d+) resources; deleted the empty state Secret airgap-state/tfstate-default-${old}, and its Lease airgap-state/lock-tfstate-default-${old}`));
  expect(reap.stdout).toContain(`keep tfstate-default-${forever} (namespace ${forever}`);
  expect(reap.stdout).toContain('keep namespace preview-local-orphan');
  expect(reap.stdout).toMatch(/reaped 1, kept \d+, failed 0/);
  // Everything its state held is gone, the state with it; the kubernetes provider deleted every object (no stray leftovers in a terminating namespace).
  const destroyed = Number(/destroyed (\d+) resources/.exec(reap.stdout)?.[1]);
  const resourcesBefore = (JSON.parse(readFileSync(join(app, 'stacks', old, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, unknown>> }).resource;
  expect(destroyed).toBe(Object.values(resourcesBefore).reduce((n, r) => n + Object.keys(r).length, 0));
  expect(kubectl(['get', 'namespace', old]).status).not.toBe(0);
  const after = snapshot();
  expect(after.secrets[`tfstate-default-${old}`]).toBeUndefined();
  expect(after.leases[`lock-tfstate-default-${old}`]).toBeUndefined();
  // The rest are untouched: the same objects at the same versions, and plan 0.
  expect(untouchedBut(after.secrets, `tfstate-default-${old}`)).toEqual(untouchedBut(before.secrets, `tfstate-default-${old}`));
  expect(untouchedBut(after.leases, `lock-tfstate-default-${old}`)).toEqual(untouchedBut(before.leases, `lock-tfstate-default-${old}`));
  for (const name of [fresh, forever, 'plain-platform', 'stray-unlabeled', 'preview-local-orphan', ...SLUGS]) expect({ name, version: after.namespaces[name] }).toEqual({ name, version: before.namespaces[name] });
  for (const stack of [fresh, forever, 'plain']) {
    const plan = tofu(stack, ['plan', '-detailed-exitcode'], {}, app);
    expect({ stack, status: plan.status, out: plan.status === 0 ? '' : plan.stdout }).toEqual({ stack, status: 0, out: '' });
  }
  const plan = tofu(SLUGS[1], ['plan', '-detailed-exitcode']);
  expect({ status: plan.status, out: plan.status === 0 ? '' : plan.stdout }).toEqual({ status: 0, out: '' });
  // A second run finds nothing more to do.
  const again = reaper(['reap', '-now', NOW]);
  expect(again.status).toBe(0);
  expect(again.stdout).toMatch(/reaped 0, kept \d+, failed 0/);

  // Least privilege, from the API server's audit log: every request the reaper (and its Terraform) made was
  // allowed, each was a grant of PreviewReaperAccess, and every grant for a kind the reaped state held was used.
  interface AuditEvent { user: { username: string }; verb: string; objectRef?: { apiGroup?: string; resource?: string; namespace?: string }; responseStatus?: { code?: number } }
  const events = readFileSync(ns.env.AGC_KUBE_AUDIT_LOG, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent).filter((e) => e.user.username === 'system:serviceaccount:ci:reaper');
  const key = (e: AuditEvent) => `${e.objectRef?.apiGroup ?? ''}/${e.objectRef?.resource}:${e.verb}`;
  // The pipeline identity's refusal is not in here; the reaper's own requests never were refused.
  expect(events.filter((e) => (e.responseStatus?.code ?? 0) === 403).map(key)).toEqual([]);
  const inState = events.filter((e) => e.objectRef?.resource === 'secrets' || e.objectRef?.resource === 'leases');
  expect([...new Set(inState.map((e) => e.objectRef?.namespace))]).toEqual(['airgap-state']);
  const used = new Set(events.map(key));
  const role = getJson<{ rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }>(['-n', 'airgap-state', 'get', 'role', 'terraform-state-reaper']);
  const clusterRole = getJson<{ rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }>(['get', 'clusterrole', 'airgap-preview-reaper']);
  const grants = (rules: typeof role.rules) => rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))));
  const granted = new Set([...grants(role.rules), ...grants(clusterRole.rules)]);
  expect([...used].filter((u) => !granted.has(u)).sort()).toEqual([]);
  // The kinds the reaped preview held, as RBAC names them.
  const heldKinds = new Set(Object.keys(resourcesBefore).filter((t) => t.startsWith('kubernetes_')).map(rbacResourceOf));
  // A Lease is created only for a state whose Lease is gone; this one's pipeline left it.
  const unused = [...granted].filter((g) => (heldKinds.has(g.split(':')[0]) || g.startsWith('/secrets:') || g.startsWith('coordination.k8s.io/')) && !used.has(g)).sort();
  process.stdout.write(`the reaper's requests (audit log): ${[...used].sort().join(' ')}\n`);
  expect(unused).toEqual(['coordination.k8s.io/leases:create']);
  expect(REAPER_VERBS.previewObjects).toEqual(['delete', 'get']);
});
