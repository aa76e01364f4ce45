/**
 * Engine: CPython with the wheel `npm run package:python` built (jsii), cdktf
 * 0.21.0 and the provider bindings from PyPI. examples/python/main.py is
 * main.ts in Python; for the same environment both must write the same bytes.
 */
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, readdirSync } from 'fs';
import { join } from 'path';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Testing } from 'cdktf';
import { AirgapStack, PreviewName, PreviewReaperAccess, StateBackendAccess } from '../../lib';
import { MAIN_ENVS, ROOT, stackFiles, synthMain, synthPython } from '../support/main-synth';
import { tmp } from '../support/scratch';

/** The wheel of this build (bindings/python, outside dist/, which npm pack rebuilds); `npm test` runs `npm run package:python` before jest. */
function wheel(): string {
  const dir = join(ROOT, 'bindings/python');
  const found = existsSync(dir) ? readdirSync(dir).filter((f) => /^airgap_go_constructs-.*\.whl$/.test(f)) : [];
  if (found.length !== 1) throw new Error(`expected one wheel in ${dir}, found ${found.join(', ') || 'none'}: run npm run package:python`);
  return join(dir, found[0]);
}

describe('examples/python/main.py (Python bindings)', () => {
  const venv = execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { encoding: 'utf8' }).trim();
  const python = join(venv, 'bin/python');
  const site = tmp('agc-wheel-');
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', site, wheel()], { stdio: 'pipe' });

  test('the wheel carries the library with its shipped Go modules', () => {
    // The jsii kernel unpacks the package into a folder that lives as long as the Python process.
    const script = 'import os, airgap_go_constructs as a; print(a.GoService.NONROOT_UID); print(" ".join(sorted(os.listdir(a.OfflineMirror.server_module_dir))))';
    const out = execFileSync(python, ['-c', script], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONPATH: site, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
      encoding: 'utf8',
    });
    const [uid, entries] = out.trim().split('\n');
    expect(uid).toBe('65532');
    expect(entries.split(' ')).toEqual(expect.arrayContaining(['go.mod', 'cmd', 'internal']));
  });

  test('a Python class can be a pod extension, and its clashes are reported at its path', () => {
    const out = execFileSync(python, [join(ROOT, 'test/fixtures/python/extension.py')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONPATH: site, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
      encoding: 'utf8',
    });
    expect(out.trim().split('\n')).toEqual([
      "['api', 'side']",
      'AirgapError: s/Side2 (pod extension): prop "volume name" is "scratch", which is already a volume of GoService s/api. Give the volume another name.',
    ]);
  });

  test('the admin stack\'s RBAC from Python: PreviewReaperAccess writes the same ClusterRole, and refuses a wildcard at its path', () => {
    const out = execFileSync(python, [join(ROOT, 'test/fixtures/python/reaper_access.py')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONPATH: site, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
      encoding: 'utf8',
    });
    const [rules, error] = out.trim().split('\n');
    const s = new AirgapStack(Testing.app(), 'admin');
    new KubernetesProvider(s, 'kubernetes', {});
    const state = new StateBackendAccess(s, 'State', { serviceAccounts: [{ name: 'preview-pipeline', namespace: 'ci' }] });
    new PreviewReaperAccess(s, 'Reaper', { stateAccess: state, serviceAccounts: [{ name: 'preview-reaper', namespace: 'ci' }], extraResources: [{ apiGroup: 'batch', resource: 'jobs' }] });
    const fromNode = Object.values((JSON.parse(Testing.synth(s)) as { resource: Record<string, Record<string, { rule: unknown }>> }).resource.kubernetes_cluster_role_v1)[0].rule;
    expect(JSON.parse(rules)).toEqual(fromNode);
    expect(JSON.parse(rules)).toContainEqual({ api_groups: ['batch'], resources: ['jobs'], verbs: ['delete', 'get'] });
    // jsii raises a JS error in Python as RuntimeError, with the message intact.
    expect(error).toBe('RuntimeError: admin/Everything (PreviewReaperAccess): prop "extraResources[0].resource" is "*", which is a wildcard, which would grant every kind. Name one namespaced resource, plural and lowercase, such as "configmaps"; for Secrets set previewSecrets: true.');
  });

  test('main.py and the extension type-check under mypy --strict against the wheel\'s type hints', () => {
    const r = spawnSync(python, ['-m', 'mypy', '--strict', '--follow-imports=silent', '--cache-dir', join(venv, '.mypy_cache'), 'examples/python/main.py', 'test/fixtures/python/extension.py', 'test/fixtures/python/reaper_access.py'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MYPYPATH: site },
      encoding: 'utf8',
    });
    expect(r.stdout.trim()).toBe('Success: no issues found in 3 source files');
    expect(r.status).toBe(0);
    // Cold, mypy reads all of cdktf's and the providers' stubs; the cache beside the venv makes later runs quick.
  }, 600_000);

  for (const [name, env] of Object.entries(MAIN_ENVS)) {
    test(`writes the same cdk.tf.json and SHA256SUMS as main.ts (${name})`, () => {
      const fromPython = stackFiles(synthPython(python, site, env));
      const fromNode = stackFiles(synthMain(env));
      const stacks = env.PREVIEW_BRANCHES ? ['images', ...env.PREVIEW_BRANCHES.split(',').map((b) => PreviewName.dnsLabel(b, { prefix: 'preview-' }))].sort() : ['images', 'preview'];
      expect([...fromPython.keys()]).toEqual(stacks.flatMap((s) => [`${s}/cdk.tf.json`, `${s}/SHA256SUMS`]));
      expect([...fromPython.keys()]).toEqual([...fromNode.keys()]);
      for (const [file, bytes] of fromNode) {
        expect({ file, text: fromPython.get(file)?.toString('utf8') }).toEqual({ file, text: bytes.toString('utf8') });
        expect(fromPython.get(file)?.equals(bytes)).toBe(true);
      }
    });
  }
});
