/**
 * Engine: npm, as a new user installs us. `npm pack` makes the tarball; a
 * fresh project in a temp folder installs it beside the peers (through the
 * npm cache with --prefer-offline), once at the lowest versions we support
 * and once at the newest the registry serves. In each, the app in
 * test/fixtures/consumer-app (written from the README only) is type-checked
 * with `tsc --strict` and `skipLibCheck: false`, synthesized by the real
 * `cdktf synth`, and tested by its own jest tests; `npx airgap-kit` runs from
 * the installed package.
 */
import { execFileSync, spawnSync } from 'child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { engineUp, REGISTRY, ROOT } from '../support/engine';
import { tmp } from '../support/scratch';

jest.setTimeout(20 * 60 * 1000);

const FIXTURE = join(ROOT, 'test/fixtures/consumer-app');
const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The peers at the bottom of each range (our own devDependencies pin exactly those) and at the top. */
const PROFILES: Record<string, Record<string, string>> = {
  lowest: Object.fromEntries(Object.keys(ours.peerDependencies).map((p) => [p, ours.devDependencies[p]])),
  newest: { ...ours.peerDependencies },
};

/** Tools of the user's project, at the versions we test with. cdktf-cli is installed globally, as its docs say. */
const TOOLS = ['typescript', 'ts-node', 'jest', 'ts-jest', '@types/jest', '@types/node'];

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sh(file: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Run {
  const r = spawnSync(file, [...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1', npm_config_update_notifier: 'false', ...env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run, what: string): Run {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** Every installed copy of `name` under `dir`'s node_modules, at any depth. */
function installedCopies(dir: string, name: string): string[] {
  const found: string[] = [];
  const walk = (nm: string): void => {
    if (!existsSync(nm)) return;
    for (const entry of readdirSync(nm)) {
      const full = join(nm, entry);
      if (entry.startsWith('@')) {
        for (const sub of readdirSync(full)) visit(join(full, sub), `${entry}/${sub}`);
      } else {
        visit(full, entry);
      }
    }
  };
  const visit = (pkg: string, pkgName: string): void => {
    if (!statSync(pkg).isDirectory()) return;
    if (pkgName === name) found.push(pkg);
    walk(join(pkg, 'node_modules'));
  };
  walk(join(dir, 'node_modules'));
  return found;
}

let tarball: string;
let packed: string[];
/** `cdktf` of a global install (`npm install --global cdktf-cli`), in a prefix of its own. */
let cdktf: string;

beforeAll(() => {
  const dest = tmp('agc-pack-');
  const out = ok(sh('npm', ['pack', '--json', '--pack-destination', dest], ROOT), 'npm pack');
  const info = JSON.parse(out.stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
  tarball = join(dest, info[0].filename);
  packed = info[0].files.map((f) => f.path).sort();
  process.stdout.write(`consumer: ${info[0].filename}, ${packed.length} files, ${info[0].size} bytes packed, ${info[0].unpackedSize} unpacked\n`);
  const prefix = tmp('agc-global-');
  ok(sh('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `cdktf-cli@${ours.devDependencies['cdktf-cli']}`], ROOT), 'npm install --global cdktf-cli');
  cdktf = join(prefix, 'bin', 'cdktf');
});

describe('the packed tarball', () => {
  test('ships the library with types, the CLI, the Go source of our tools and the license, and nothing of the repo besides', () => {
    for (const f of ['.jsii', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/airgap-kit.js', 'mirror/go.mod', 'mirror/cmd/offline-bundle/main.go', 'mirror/cmd/offline-mirror/main.go', 'mirror/README.md', 'kit/go.mod', 'kit/go.sum', 'kit/cmd/airgap-kit/main.go', 'LICENSE', 'README.md', 'package.json']) {
      expect(packed).toContain(f);
    }
    expect(packed.filter((f) => f.endsWith('_test.go') || f.includes('/testdata/') || /^(test|lib|bench|scripts|tools|examples)\//.test(f))).toEqual([]);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.bin).toEqual({ 'airgap-kit': 'dist/cli/airgap-kit.js' });
    expect(execFileSync('tar', ['-xzOf', tarball, 'package/dist/cli/airgap-kit.js'], { encoding: 'utf8' })).toMatch(/^#!\/usr\/bin\/env node\n/);
  });
});

describe.each(Object.keys(PROFILES))('a fresh project with the peers at their %s versions', (profile) => {
  let dir: string;

  beforeAll(() => {
    dir = tmp(`agc-consumer-${profile}-`);
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify(
        {
          name: `consumer-${profile}`,
          private: true,
          dependencies: { 'airgap-go-constructs': `file:${tarball}`, ...PROFILES[profile] },
          devDependencies: Object.fromEntries(TOOLS.map((t) => [t, ours.devDependencies[t]])),
        },
        null,
        2,
      ),
    );
    // The npm cache already holds most of this from our own `npm ci`.
    ok(sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir), `npm install (${profile})`);
  });

  test('installs exactly one copy of constructs and of cdktf, at a version inside our ranges', () => {
    for (const name of ['constructs', 'cdktf']) {
      const copies = installedCopies(dir, name);
      expect(copies).toEqual([join(dir, 'node_modules', name)]);
    }
    const version = (name: string) => (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    const versions = Object.fromEntries(Object.keys(PROFILES.lowest).map((p) => [p, version(p)]));
    process.stdout.write(`consumer (${profile}): ${JSON.stringify(versions)}\n`);
    if (profile === 'lowest') expect(versions).toEqual(PROFILES.lowest);
    else for (const p of Object.keys(versions)) expect(versions[p].split('.')[0]).toBe(PROFILES.lowest[p].split('.')[0]);
  });

  test('npx airgap-kit --help works, and bundle builds offline-bundle from the shipped source and bundles the shipped mirror module', () => {
    const help = ok(sh('npx', ['--no-install', 'airgap-kit', '--help'], dir), 'airgap-kit --help');
    expect(help.stdout).toContain('bundle ');
    const cache = tmp('agc-consumer-tools-');
    const bundle = ok(
      sh('npx', ['--no-install', 'airgap-kit', 'bundle', '-out', 'bundles/app', 'node_modules/airgap-go-constructs/mirror'], dir, { AIRGAP_KIT_CACHE: cache, GOPROXY: 'off', GOFLAGS: '' }),
      'airgap-kit bundle',
    );
    expect(bundle.stderr).toContain('airgap-kit: building offline-bundle');
    expect(bundle.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(dir, 'bundles/app.sha256sums-hash'), 'utf8').trim()).toBe(bundle.stdout.trim());
    // The carry tool builds from the shipped kit/ module too, from the install-time module cache alone.
    const verifyHelp = ok(sh('npx', ['--no-install', 'airgap-kit', 'verify', '--help'], dir, { AIRGAP_KIT_CACHE: cache, GOPROXY: 'off', GOFLAGS: '' }), 'airgap-kit verify --help');
    expect(verifyHelp.stdout).toMatch(/^usage: airgap-kit verify -archive ARCHIVE/);
  });

  test('tsc --strict with skipLibCheck false finds nothing', () => {
    ok(sh('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], dir), 'tsc');
  });

  test('cdktf synth writes both stacks with the kit, and the mirror image is built from the shipped module', () => {
    ok(sh(cdktf, ['synth'], dir, { CI: 'true' }), 'cdktf synth');
    const images = JSON.parse(readFileSync(join(dir, 'cdktf.out/stacks/images/cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, { name?: string }>> };
    expect(Object.values(images.resource.docker_image).map((i) => i.name).sort()).toEqual([
      expect.stringMatching(/^registry\.internal:5000\/acme\/go-bundle:ctx-[0-9a-f]{12}$/),
      expect.stringMatching(/^registry\.internal:5000\/airgap\/offline-mirror:ctx-[0-9a-f]{12}$/),
    ]);
    const staged = readdirSync(join(dir, 'cdktf.out/stacks/images/assets'));
    expect(staged.length).toBe(2);
    for (const stack of ['images', 'preview']) {
      expect(existsSync(join(dir, 'cdktf.out/stacks', stack, 'SHA256SUMS'))).toBe(true);
      expect(readFileSync(join(dir, 'cdktf.out/stacks', stack, 'cdk.tf.json'), 'utf8')).not.toContain(dir);
    }
  });

  test('a GoImageBuild.hostGo() image: the provisioner\'s own command, run from the stack folder as tofu runs it, builds and pushes the index with SBOMs', () => {
    const info = engineUp();
    ok(sh('npx', ['--no-install', 'ts-node', '--transpile-only', 'host-go.ts'], dir, { REGISTRY, RUNTIME_INDEX: info.runtimeIndex }), 'synth of host-go.ts');
    const stackDir = join(dir, 'cdktf.out-host-go/stacks/hostgo');
    const json = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: { terraform_data: Record<string, { provisioner: Array<{ 'local-exec': { command: string } }> }> } };
    const [build] = Object.values(json.resource.terraform_data);
    // What local-exec runs: Terraform's "$${" is a literal "${", then /bin/sh -c in the stack folder.
    const command = build.provisioner[0]['local-exec'].command.replace(/\$\$\{/g, '${');
    expect(command).toMatch(/^\$\{AIRGAP_KIT:-npx --no-install airgap-kit\} build-image -spec assets\/server\/[0-9a-f]{16}\/airgap-build.json -tag ctx-[0-9a-f]{12}$/);
    const env = { ...process.env, AIRGAP_KIT_CACHE: tmp('agc-consumer-tools-'), GOPROXY: 'off', GOFLAGS: '' } as Record<string, string>;
    delete env.AIRGAP_KIT;
    const built = ok(sh('/bin/sh', ['-c', command], stackDir, env), 'the provisioner command');
    const result = JSON.parse(built.stdout) as { digest: string; platforms: Array<{ platform: string; sbom?: string }> };
    expect(result.platforms.map((p) => [p.platform, /^sha256:/.test(p.sbom ?? '')])).toEqual([
      ['linux/amd64', true],
      ['linux/arm64', true],
    ]);
    expect(built.stderr).toContain('airgap-kit: building airgap-kit');
  });

  test('the app\'s own jest tests pass, and a second run matches the snapshot the first wrote', () => {
    ok(sh('npx', ['--no-install', 'jest', '--ci=false'], dir), 'jest (first run)');
    expect(readdirSync(join(dir, 'test/__snapshots__'))).toEqual(['app.spec.ts.snap']);
    ok(sh('npx', ['--no-install', 'jest', '--ci'], dir), 'jest (second run)');
  });
});
