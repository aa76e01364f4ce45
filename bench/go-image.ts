/**
 * GoImage on the real engine, through the product's own build paths:
 *
 * - dockerfile (the default): the generated Dockerfile through podman's
 *   Docker-compatible /build, the endpoint the docker provider's legacy
 *   builder drives. Cold: no layer cache and an empty Go build cache mount.
 *   Warm: a source-only change.
 * - hostGo: `airgap-kit build-image` on the staged spec, the command the
 *   stack's terraform_data runs at apply, for linux/amd64 + linux/arm64. Cold:
 *   an empty GOCACHE. Warm: a source-only change.
 *
 * Plus the distinct digests over 3 clean builds through each path (and
 * podman's libpod API for reference), and image sizes per platform.
 *
 *   npm run bench -- go-image
 */
import { execFileSync, spawnSync } from 'child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdktf';
import { HELLO_GO_DIR, ImageStack } from '../examples/preview-app';
import { ENGINE_LOG_DIR } from '../lib/private/dockerfile';
import { docker, dockerStatus, engineUp, kitBinary, REGISTRY, synthImageStack } from '../test/support/engine';
import { median, saveResult } from './results';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
/** Where podman keeps `RUN --mount=type=cache` folders (rootful). */
const BUILDAH_CACHE = ENGINE_LOG_DIR.slice(0, ENGINE_LOG_DIR.lastIndexOf('/'));

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function digestOf(repo: string, tag: string): Promise<string> {
  const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  return res.headers.get('docker-content-digest') ?? 'missing';
}

/** A version string never built before: a change an earlier run already built would hit a layer cache. */
function changeSource(mainGo: string, original: string): void {
  writeFileSync(mainGo, original.replace('var version = "dev"', `var version = "bench-${process.pid}-${process.hrtime.bigint()}"`));
}

interface HostResult {
  digest: string;
  platforms: Array<{ platform: string; digest: string; binaryBytes: number; imageBytes: number; compiled: string[] }>;
}

/** Synthesizes the hostGo image stack on moduleDir; returns the staged spec. */
function hostSpec(moduleDir: string, runtime: string): string {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'agc-bench-host-')) });
  const stack = new ImageStack(app, 'images', { registry: REGISTRY, plainHttpRegistry: true, moduleDir, hostGo: { platforms: PLATFORMS, runtime } });
  app.synth();
  return join(app.outdir, 'stacks', 'images', stack.hello.contextPath, 'airgap-build.json');
}

function hostBuild(spec: string, tag: string, gocache: string): HostResult {
  const result = join(mkdtempSync(join(tmpdir(), 'agc-bench-result-')), 'r.json');
  const r = spawnSync(kitBinary(), ['build-image', '-spec', spec, '-tag', tag, '-result', result], { encoding: 'utf8', env: { ...process.env, GOCACHE: gocache, GOFLAGS: '' }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`airgap-kit build-image exited ${r.status}:\n${r.stderr}`);
  return JSON.parse(readFileSync(result, 'utf8')) as HostResult;
}

async function main(): Promise<void> {
  const info = engineUp();
  kitBinary(); // built (on first use) before anything is timed
  const work = mkdtempSync(join(tmpdir(), 'agc-bench-img-'));
  const moduleDir = join(work, 'hello-go');
  cpSync(HELLO_GO_DIR, moduleDir, { recursive: true, filter: (src) => !src.endsWith('/hello-go/hello-go') });
  const mainGo = join(moduleDir, 'main.go');
  const original = readFileSync(mainGo, 'utf8');

  // dockerfile: what the docker provider drives.
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    writeFileSync(mainGo, original);
    const a = synthImageStack(moduleDir);
    // A cold build has no Go build cache either: empty podman's cache mounts.
    rmSync(BUILDAH_CACHE, { recursive: true, force: true });
    cold.push(seconds(() => docker(['build', '--no-cache', '--network', 'none', '-t', `${REGISTRY}/bench/hello-go:cold`, a.contextDir])));
    changeSource(mainGo, original);
    const b = synthImageStack(moduleDir);
    warm.push(seconds(() => docker(['build', '--network', 'none', '-t', `${REGISTRY}/bench/hello-go:warm`, b.contextDir])));
  }
  const cid = docker(['create', `${REGISTRY}/bench/hello-go:cold`]).trim();
  docker(['cp', `${cid}:/usr/local/bin/hello-go`, join(work, 'bin')]);
  docker(['rm', cid]);
  const binaryBytes = statSync(join(work, 'bin')).size;
  const imageBytes = Number(docker(['image', 'inspect', '-f', '{{.Size}}', `${REGISTRY}/bench/hello-go:cold`]).trim());

  // Digests over 3 clean builds: the Docker-compatible API, and the libpod API for reference.
  writeFileSync(mainGo, original);
  const { contextDir } = synthImageStack(moduleDir);
  const tarball = join(work, 'context.tar');
  execFileSync('tar', ['--sort=name', '-C', contextDir, '-cf', tarball, '.']);
  const socket = info.dockerHost.replace(/^unix:\/\//, '');
  const libpod: string[] = [];
  const compat: string[] = [];
  for (let i = 0; i < 3; i++) {
    const tag = `${REGISTRY}/bench/hello-go:libpod-${i}`;
    const q = new URLSearchParams({ t: tag, timestamp: '0', layers: 'false', nocache: 'true', networkmode: 'none', outputformat: 'application/vnd.oci.image.manifest.v1+json' });
    execFileSync('curl', ['-sS', '--fail-with-body', '--unix-socket', socket, '-X', 'POST', '-H', 'Content-Type: application/x-tar', '--data-binary', `@${tarball}`, `http://d/v4.3.1/libpod/build?${q}`], { maxBuffer: 64 << 20 });
    docker(['push', tag]);
    libpod.push(await digestOf('bench/hello-go', `libpod-${i}`));
    const ctag = `${REGISTRY}/bench/hello-go:compat-${i}`;
    docker(['build', '--no-cache', '--network', 'none', '-t', ctag, contextDir]);
    docker(['push', ctag]);
    compat.push(await digestOf('bench/hello-go', `compat-${i}`));
    dockerStatus(['rmi', '-f', tag, ctag]);
  }
  dockerStatus(['rmi', '-f', `${REGISTRY}/bench/hello-go:cold`, `${REGISTRY}/bench/hello-go:warm`]);

  // hostGo: what the terraform_data runs. Each clean build has a GOCACHE of its own.
  const hostCold: number[] = [];
  const hostWarm: number[] = [];
  const hostDigests: string[] = [];
  let clean: HostResult | undefined;
  let warmCompiled: string[] = [];
  for (let i = 0; i < Math.max(RUNS, 3); i++) {
    writeFileSync(mainGo, original);
    const gocache = mkdtempSync(join(tmpdir(), 'agc-bench-gocache-'));
    const spec = hostSpec(moduleDir, info.runtimeIndex);
    hostCold.push(seconds(() => (clean = hostBuild(spec, `host-clean-${i}`, gocache))));
    hostDigests.push((clean as HostResult).digest);
    changeSource(mainGo, original);
    const warmSpec = hostSpec(moduleDir, info.runtimeIndex);
    let w: HostResult | undefined;
    hostWarm.push(seconds(() => (w = hostBuild(warmSpec, `host-warm-${i}`, gocache))));
    warmCompiled = [...new Set((w as HostResult).platforms.flatMap((p) => p.compiled))];
    rmSync(gocache, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
  const pushed = clean as HostResult;

  saveResult('go-image', {
    engine: 'podman 4.3.1 (Docker-compatible API), docker-registry 2.8.2, go ' + execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim(),
    runs: RUNS,
    coldBuildSeconds: cold,
    warmRebuildSeconds: warm,
    coldMedian: median(cold),
    warmMedian: median(warm),
    warmOverCold: median(warm) / median(cold),
    binaryBytes,
    imageBytes,
    imageMinusBinaryBytes: imageBytes - binaryBytes,
    libpodDigests: libpod,
    compatDigests: compat,
    libpodUnique: new Set(libpod).size,
    compatUnique: new Set(compat).size,
    hostGo: {
      coldBuildSeconds: hostCold,
      warmRebuildSeconds: hostWarm,
      coldMedian: median(hostCold),
      warmMedian: median(hostWarm),
      warmOverCold: median(hostWarm) / median(hostCold),
      warmCompiled,
      digests: hostDigests,
      sizes: pushed.platforms.map((p) => ({ platform: p.platform, binaryBytes: p.binaryBytes, imageBytes: p.imageBytes })),
    },
    productPathUnique: new Set(hostDigests).size,
    platforms: pushed.platforms.map((p) => p.platform),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
