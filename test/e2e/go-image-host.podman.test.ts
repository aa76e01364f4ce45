/**
 * GoImageBuild.hostGo() on the real registry: the exact command the stack's
 * terraform_data runs at apply (`airgap-kit build-image` on the staged spec),
 * with the host's Go and a Go build cache of the test's own. What was pushed
 * is read back with oras, a third-party client. The tofu apply of the same
 * stack is in image-stack-apply.tofu.podman.test.ts.
 */
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App } from 'cdktf';
import { ImageStack } from '../../examples/preview-app';
import { engineUp, kitBinary, REGISTRY, ROOT } from '../support/engine';
import { copyHelloGo, tmp } from '../support/scratch';
import { goTool } from '../support/toolchain';

jest.setTimeout(20 * 60 * 1000);

const PLATFORMS = ['linux/amd64', 'linux/arm64'];

interface BuildResult {
  readonly digest: string;
  readonly mediaType: string;
  readonly platforms: Array<{ platform: string; digest: string; binaryBytes: number; imageBytes: number; sbom?: string; compiled: string[] }>;
}

/** Synthesizes the image stack on moduleDir and returns the staged spec the apply would run. */
function stagedSpec(moduleDir: string): string {
  const info = engineUp();
  const app = new App({ outdir: tmp('agc-host-') });
  const stack = new ImageStack(app, 'images', {
    registry: REGISTRY,
    plainHttpRegistry: true,
    moduleDir,
    hostGo: { platforms: PLATFORMS, runtime: info.runtimeIndex },
  });
  app.synth();
  return join(app.outdir, 'stacks', 'images', stack.hello.contextPath, 'airgap-build.json');
}

/** Runs the product's build command; `gocache` is the Go build cache it uses. */
function buildImage(spec: string, tag: string, gocache: string): { status: number; result?: BuildResult; output: string } {
  mkdirSync(gocache, { recursive: true });
  const resultFile = join(tmp('agc-host-result-'), 'result.json');
  const r = spawnSync(kitBinary(), ['build-image', '-spec', spec, '-tag', tag, '-result', resultFile], {
    encoding: 'utf8',
    env: { ...process.env, GOCACHE: gocache, GOFLAGS: '', GOPROXY: 'off' },
    maxBuffer: 64 << 20,
  });
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) return { status: r.status ?? -1, output };
  return { status: 0, result: JSON.parse(readFileSync(resultFile, 'utf8')) as BuildResult, output };
}

function oras(args: string[]): Buffer {
  const r = spawnSync(goTool('oras'), args, { maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`oras ${args.join(' ')} exited ${r.status}: ${String(r.stderr)}`);
  return r.stdout;
}

/** The cached Python environment (scripts/python-env.sh), which holds spdx-tools. */
function pythonEnv(): string {
  return execFileSync('bash', [join(ROOT, 'scripts/python-env.sh')], { encoding: 'utf8' }).trim();
}

function changeSource(moduleDir: string, marker: string): void {
  const file = join(moduleDir, 'main.go');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/var version = "[^"]*"/, `var version = "${marker}"`));
}

/** Where ImageStack pushes hello-go. */
const repo = `${REGISTRY}/examples/hello-go`;
let first: BuildResult;
let moduleDir: string;
let warmCache: string;

beforeAll(() => {
  engineUp();
  moduleDir = copyHelloGo();
  warmCache = tmp('agc-gocache-');
  const built = buildImage(stagedSpec(moduleDir), 'clean-0', warmCache);
  // The whole output on failure: a build that dies says why.
  expect({ status: built.status, output: built.status === 0 ? '' : built.output }).toEqual({ status: 0, output: '' });
  first = built.result as BuildResult;
});

describe('GoImageBuild.hostGo() through airgap-kit build-image', () => {
  test('three clean builds (each with an empty Go build cache) push one digest', () => {
    const digests = [first.digest];
    for (const i of [1, 2]) {
      const built = buildImage(stagedSpec(moduleDir), `clean-${i}`, tmp('agc-gocache-'));
      expect(built.status).toBe(0);
      digests.push((built.result as BuildResult).digest);
    }
    expect(new Set(digests).size).toBe(1);
    // What the registry holds under each tag is that digest, byte for byte.
    for (const i of [0, 1, 2]) {
      const index = oras(['manifest', 'fetch', '--plain-http', `${repo}:clean-${i}`]);
      expect(`sha256:${createHash('sha256').update(index).digest('hex')}`).toBe(first.digest);
    }
  });

  test('one index of two manifests with their platforms; the arm64 binary is an aarch64 ELF, the amd64 one x86-64', () => {
    const index = JSON.parse(oras(['manifest', 'fetch', '--plain-http', `${repo}@${first.digest}`]).toString()) as {
      mediaType: string;
      manifests: Array<{ digest: string; platform: { os: string; architecture: string } }>;
    };
    expect(index.mediaType).toBe(first.mediaType);
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(PLATFORMS);
    const machines: Record<string, number> = {};
    for (const m of index.manifests) {
      const manifest = JSON.parse(oras(['manifest', 'fetch', '--plain-http', `${repo}@${m.digest}`]).toString()) as { config: { digest: string }; layers: Array<{ digest: string }> };
      const config = JSON.parse(oras(['blob', 'fetch', '--plain-http', '--output', '-', `${repo}@${manifest.config.digest}`]).toString()) as {
        architecture: string;
        os: string;
        config: { User: string; Entrypoint: string[] };
        created: string;
      };
      expect({ os: config.os, architecture: config.architecture, user: config.config.User, entrypoint: config.config.Entrypoint, created: config.created }).toEqual({
        os: m.platform.os,
        architecture: m.platform.architecture,
        user: '65532:65532',
        entrypoint: ['/usr/local/bin/hello-go'],
        created: '1970-01-01T00:00:00Z',
      });
      const layer = oras(['blob', 'fetch', '--plain-http', '--output', '-', `${repo}@${manifest.layers[manifest.layers.length - 1].digest}`]);
      const dir = tmp('agc-layer-');
      writeFileSync(join(dir, 'layer.tgz'), layer);
      const listing = spawnSync('tar', ['-tvzf', join(dir, 'layer.tgz')], { encoding: 'utf8' }).stdout;
      expect(listing).toMatch(/^-r-xr-xr-x 0\/0 .* 1970-01-01 00:00 usr\/local\/bin\/hello-go$/m);
      const elf = spawnSync('tar', ['-xzOf', join(dir, 'layer.tgz'), 'usr/local/bin/hello-go'], { maxBuffer: 64 << 20 }).stdout;
      expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      machines[m.platform.architecture] = elf.readUInt16LE(18);
    }
    // e_machine: EM_X86_64 = 62, EM_AARCH64 = 183.
    expect(machines).toEqual({ amd64: 62, arm64: 183 });
  });

  test('each platform manifest has an SPDX referrer naming golang.org/x/text v0.43.0 with its go.sum hash, Go, the module and the base by digest', () => {
    const goSum = readFileSync(join(moduleDir, 'go.sum'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('golang.org/x/text v0.43.0 h1:'))
      ?.split(' ')[2] as string;
    expect(goSum).toMatch(/^h1:/);
    for (const p of first.platforms) {
      const discovered = JSON.parse(oras(['discover', '--plain-http', '--format', 'json', `${repo}@${p.digest}`]).toString()) as {
        manifests?: Array<{ digest: string; artifactType: string }>;
        referrers?: Array<{ digest: string; artifactType: string }>;
      };
      const referrers = discovered.manifests ?? discovered.referrers ?? [];
      expect(referrers.map((r) => [r.artifactType, r.digest])).toEqual([['application/spdx+json', p.sbom]]);
      const out = tmp('agc-sbom-');
      oras(['pull', '--plain-http', '-o', out, `${repo}@${p.sbom}`]);
      const doc = JSON.parse(readFileSync(join(out, 'sbom.spdx.json'), 'utf8')) as {
        spdxVersion: string;
        packages: Array<{ name: string; versionInfo?: string; comment?: string; checksums?: Array<{ algorithm: string; checksumValue: string }> }>;
      };
      expect(doc.spdxVersion).toBe('SPDX-2.3');
      const pkg = (name: string) => doc.packages.find((x) => x.name === name);
      const text = pkg('golang.org/x/text');
      expect(text?.versionInfo).toBe('v0.43.0');
      expect(text?.comment).toContain(goSum);
      expect(text?.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: Buffer.from(goSum.slice(3), 'base64').toString('hex') }]);
      expect(pkg('stdlib')?.versionInfo).toMatch(/^go1\.\d+/);
      expect(pkg('github.com/airgap-go-constructs/examples/hello-go')?.comment).toContain(`GOARCH=${p.platform.split('/')[1]}`);
      expect(pkg(engineUp().runtimeIndex)?.versionInfo).toBe(engineUp().runtimeIndex.split('@')[1]);
      expect(pkg(`${repo}@${p.digest}`)?.comment).toBe(`platform ${p.platform}`);
      // A third-party validator (spdx-tools, the SPDX project's own) parses and validates it.
      const check = spawnSync(join(pythonEnv(), 'bin', 'pyspdxtools'), ['-i', join(out, 'sbom.spdx.json')], { encoding: 'utf8' });
      expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({ status: 0, output: '' });
    }
  });

  test('a source-only change recompiles only the main package: the module and compile caches are reused', () => {
    // The cold build compiled the standard library and x/text for both platforms.
    for (const p of first.platforms) expect(p.compiled).toEqual(expect.arrayContaining(['runtime', 'golang.org/x/text/language']));
    changeSource(moduleDir, `warm-${process.pid}`);
    const warm = buildImage(stagedSpec(moduleDir), 'warm', warmCache);
    expect(warm.status).toBe(0);
    const result = warm.result as BuildResult;
    expect(result.platforms.map((p) => [p.platform, p.compiled])).toEqual(PLATFORMS.map((p) => [p, ['github.com/airgap-go-constructs/examples/hello-go']]));
    expect(result.digest).not.toBe(first.digest);
  });

  test('a failed build says why: the compiler\'s message and the log file holding the whole output', () => {
    const broken = copyHelloGo();
    const file = join(broken, 'main.go');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nfunc broken() int { return undefinedName }\n`);
    const r = buildImage(stagedSpec(broken), 'broken', warmCache);
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/main\.go:\d+:\d+: undefined: undefinedName/);
    const log = /whole log: (\S+)\)/.exec(r.output)?.[1] as string;
    expect(readFileSync(log, 'utf8')).toMatch(/undefined: undefinedName/);
  });
});
