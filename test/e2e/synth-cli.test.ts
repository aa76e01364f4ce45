/**
 * Engine: the real cdktf CLI (`npm run synth`), run in two copies of the project
 * at different paths, inside a network namespace with only loopback when the
 * machine allows one.
 */
import { execFileSync } from 'child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { PreviewName } from '../../lib';
import { dig, resourcesOf, SynthJson } from '../support/synth';

const ROOT = resolve(__dirname, '../..');
const COPY = ['package.json', 'cdktf.json', 'tsconfig.json', 'main.ts', 'lib', 'examples'];

function canIsolateNetwork(): boolean {
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Copies the project to `dir` and runs `npm run synth` there; returns the preview stack's cdk.tf.json bytes. */
function synthIn(dir: string, env: Record<string, string> = {}, stack = 'preview'): Buffer {
  for (const entry of COPY) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const cmd = ['npm', 'run', '--silent', 'synth'];
  const [file, args] = canIsolateNetwork() ? ['unshare', ['-n', '--', ...cmd]] : [cmd[0], cmd.slice(1)];
  execFileSync(file, args, { cwd: dir, env: { ...process.env, ...env, CI: 'true' }, stdio: 'pipe' });
  return readFileSync(join(dir, 'cdktf.out/stacks', stack, 'cdk.tf.json'));
}

describe('npm run synth (cdktf CLI)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tmp = (name: string) => {
    const d = mkdtempSync(join(tmpdir(), name));
    dirs.push(d);
    return d;
  };

  test('gives byte-identical cdk.tf.json from two clones at different paths, with no path of either', () => {
    const a = tmp('agc-a-');
    const b = join(tmp('agc-b-'), 'a', 'much', 'deeper', 'clone');
    const bytesA = synthIn(a);
    const bytesB = synthIn(b);
    expect(bytesA.equals(bytesB)).toBe(true);
    const imagesA = readFileSync(join(a, 'cdktf.out/stacks/images/cdk.tf.json'));
    const imagesB = readFileSync(join(b, 'cdktf.out/stacks/images/cdk.tf.json'));
    expect(imagesA.equals(imagesB)).toBe(true);
    for (const text of [bytesA.toString('utf8'), imagesA.toString('utf8')]) {
      for (const path of [a, b, ROOT]) expect(text).not.toContain(path);
    }
    // The default registry is the local plain-HTTP one; the provider must be told, or it reads digests over HTTPS.
    expect((JSON.parse(imagesA.toString('utf8')) as { provider: { docker: unknown[] } }).provider.docker).toEqual([
      { registry_auth: [{ address: 'http://127.0.0.1:5000', auth_disabled: true }] },
    ]);
    // The staged build context is the same tree too.
    const contextOf = (root: string) => {
      const context = (JSON.parse(imagesA.toString('utf8')) as SynthJson).resource?.docker_image;
      const [body] = Object.values(context ?? {});
      const rel = String(dig(body, 'build.context')).replace('${abspath(path.module)}/', '');
      return readFileSync(join(root, 'cdktf.out/stacks/images', rel, 'Dockerfile'));
    };
    expect(contextOf(a).equals(contextOf(b))).toBe(true);
    // SHA256SUMS covers every file of each stack directory, so equal sums mean equal trees.
    for (const stack of ['images', 'preview']) {
      const sums = (root: string) => readFileSync(join(root, 'cdktf.out/stacks', stack, 'SHA256SUMS'));
      expect(sums(a).equals(sums(b))).toBe(true);
    }
  });

  test('writes the preview stack with every object and its security fields', () => {
    const dir = tmp('agc-c-');
    const json = JSON.parse(synthIn(dir, { PREVIEW_BRANCH: 'feature/ABC_123', PREVIEW_CREATED_AT: '2026-11-21T10:00:00Z' }).toString('utf8')) as SynthJson;
    const count = (type: string) => resourcesOf(json, type).length;
    expect(count('kubernetes_namespace_v1')).toBe(1);
    expect(count('kubernetes_network_policy_v1')).toBeGreaterThanOrEqual(4);
    for (const type of ['kubernetes_resource_quota_v1', 'kubernetes_limit_range_v1', 'kubernetes_service_account_v1', 'kubernetes_deployment_v1', 'kubernetes_service_v1', 'kubernetes_pod_disruption_budget_v1']) {
      expect([type, count(type)]).toEqual([type, 1]);
    }
    const [[, ns]] = resourcesOf(json, 'kubernetes_namespace_v1');
    expect(dig(ns, 'metadata.name')).toMatch(/^preview-feature-abc-123-[0-9a-f]{10}$/);
    expect(dig(ns, 'metadata.labels.pod-security.kubernetes.io/enforce')).toBeUndefined(); // dotted keys: read directly below
    expect((dig(ns, 'metadata.labels') as Record<string, string>)['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect((dig(ns, 'metadata.labels') as Record<string, string>)['airgap-go-constructs.io/expires-at']).toBe('20261124T100000Z');
    const [[, deployment]] = resourcesOf(json, 'kubernetes_deployment_v1');
    const container = dig(deployment, 'spec.template.spec.container.0') as Record<string, unknown>;
    expect(dig(container, 'security_context')).toMatchObject({ run_as_non_root: true, allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.image_pull_policy).toBe('IfNotPresent');
    expect(dig(deployment, 'spec.template.spec.automount_service_account_token')).toBe(false);
    expect(json.terraform).toMatchObject({ backend: { local: { path: 'terraform.preview.tfstate' } } });
    expect(existsSync(join(dir, 'cdktf.out/stacks/preview/cdk.tf.json'))).toBe(true);
  });

  test('PREVIEW_BRANCHES gives one stack per branch, each with its state in the cluster under its own key, all sharing the image stack', () => {
    const dir = tmp('agc-fleet-');
    const branches = ['feature/Login', 'PR-42', 'fix/cache'];
    const ids = branches.map((b) => PreviewName.dnsLabel(b, { prefix: 'preview-' }));
    synthIn(dir, { PREVIEW_BRANCHES: branches.join(','), PREVIEW_CREATED_AT: '2026-12-03T10:00:00Z' }, 'images');
    const manifest = JSON.parse(readFileSync(join(dir, 'cdktf.out/manifest.json'), 'utf8')) as { stacks: Record<string, { dependencies: string[] }> };
    expect(Object.keys(manifest.stacks).sort()).toEqual(['images', ...ids].sort());
    for (const [i, id] of ids.entries()) {
      const json = JSON.parse(readFileSync(join(dir, 'cdktf.out/stacks', id, 'cdk.tf.json'), 'utf8')) as SynthJson & { terraform: { backend: unknown } };
      expect(json.terraform.backend).toEqual({ kubernetes: { secret_suffix: id, namespace: 'airgap-state', labels: { 'airgap-go-constructs.io/preview': 'true', 'airgap-go-constructs.io/stack': id } } });
      expect(manifest.stacks[id].dependencies).toEqual(['images']);
      const [[, ns]] = resourcesOf(json, 'kubernetes_namespace_v1');
      expect((dig(ns, 'metadata.annotations') as Record<string, string>)['airgap-go-constructs.io/branch']).toBe(branches[i]);
      expect((dig(ns, 'metadata.labels') as Record<string, string>)['airgap-go-constructs.io/expires-at']).toBe('20261206T100000Z');
      // The image comes from the one image stack's state.
      const [[, deployment]] = resourcesOf(json, 'kubernetes_deployment_v1');
      expect(String(dig(deployment, 'spec.template.spec.container.0.image'))).toMatch(/^127\.0\.0\.1:5000\/examples\/hello-go@\$\{data\.terraform_remote_state\.cross-stack-reference-input-images\.outputs\./);
    }
    expect(existsSync(join(dir, 'cdktf.out/stacks/preview'))).toBe(false);
    // The image stack's state is in the cluster too, so a pipeline on any runner reads the digest from it.
    const images = JSON.parse(readFileSync(join(dir, 'cdktf.out/stacks/images/cdk.tf.json'), 'utf8')) as { terraform: { backend: unknown } };
    expect(images.terraform.backend).toEqual({ kubernetes: { secret_suffix: 'images', namespace: 'airgap-state', labels: { 'airgap-go-constructs.io/stack': 'images' } } });
    const preview = JSON.parse(readFileSync(join(dir, 'cdktf.out/stacks', ids[0], 'cdk.tf.json'), 'utf8')) as { data: { terraform_remote_state: Record<string, unknown> } };
    expect(preview.data.terraform_remote_state['cross-stack-reference-input-images']).toEqual({ backend: 'kubernetes', config: { secret_suffix: 'images', namespace: 'airgap-state' } });
  });

  test('PREVIEW_BRANCHES_FILE takes a JSON list with a createdAt per branch, and a branch listed twice is an error naming both', () => {
    const dir = tmp('agc-fleet-file-');
    const file = join(dir, 'branches.json');
    mkdirSync(join(dir, 'app'));
    mkdirSync(join(dir, 'dup'));
    writeFileSync(file, JSON.stringify(['main', { branch: 'PR-7', createdAt: '2026-12-01T00:00:00Z' }]));
    const json = JSON.parse(synthIn(join(dir, 'app'), { PREVIEW_BRANCHES_FILE: file }, PreviewName.dnsLabel('PR-7', { prefix: 'preview-' })).toString('utf8')) as SynthJson;
    const [[, ns]] = resourcesOf(json, 'kubernetes_namespace_v1');
    expect((dig(ns, 'metadata.labels') as Record<string, string>)['airgap-go-constructs.io/expires-at']).toBe('20261204T000000Z');
    const mainJson = JSON.parse(readFileSync(join(dir, 'app/cdktf.out/stacks', PreviewName.dnsLabel('main', { prefix: 'preview-' }), 'cdk.tf.json'), 'utf8')) as SynthJson;
    const [[, mainNs]] = resourcesOf(mainJson, 'kubernetes_namespace_v1');
    expect((dig(mainNs, 'metadata.labels') as Record<string, string>)['airgap-go-constructs.io/expires-at']).toBeUndefined();

    writeFileSync(file, JSON.stringify(['PR-7', 'main', 'PR-7']));
    let failure = '';
    try {
      synthIn(join(dir, 'dup'), { PREVIEW_BRANCHES_FILE: file });
    } catch (e) {
      failure = String((e as { stderr?: Buffer }).stderr ?? e);
    }
    expect(failure).toContain(`PREVIEW_BRANCHES_FILE (${file})[2].branch`);
    expect(failure).toContain('"PR-7"');
    expect(failure).toContain('as branch "PR-7" does');
    expect(failure).toContain('List each branch once.');
  });
});
