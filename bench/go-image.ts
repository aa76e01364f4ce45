/**
 * GoImage on the real engine: cold build against a warm rebuild after a
 * source-only change, image size against binary size, and digest stability
 * over three clean builds through each of podman's APIs.
 *
 *   npm run bench -- go-image
 */
import { execFileSync } from 'child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { HELLO_GO_DIR } from '../examples/preview-app';
import { docker, dockerStatus, engineUp, REGISTRY, synthImageStack } from '../test/support/engine';
import { median, saveResult } from './results';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

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

async function main(): Promise<void> {
  const info = engineUp();
  const work = mkdtempSync(join(tmpdir(), 'agc-bench-img-'));
  const moduleDir = join(work, 'hello-go');
  cpSync(HELLO_GO_DIR, moduleDir, { recursive: true, filter: (src) => !src.endsWith('/hello-go/hello-go') });
  const mainGo = join(moduleDir, 'main.go');
  const original = readFileSync(mainGo, 'utf8');

  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    writeFileSync(mainGo, original);
    const a = synthImageStack(moduleDir);
    cold.push(seconds(() => docker(['build', '--no-cache', '--network', 'none', '-t', `${REGISTRY}/bench/hello-go:cold`, a.contextDir])));
    // A version string never built before: a change an earlier run already built would hit podman's layer cache.
    writeFileSync(mainGo, original.replace('var version = "dev"', `var version = "bench-${process.pid}-${process.hrtime.bigint()}"`));
    const b = synthImageStack(moduleDir);
    warm.push(seconds(() => docker(['build', '--network', 'none', '-t', `${REGISTRY}/bench/hello-go:warm`, b.contextDir])));
  }

  const cid = docker(['create', `${REGISTRY}/bench/hello-go:cold`]).trim();
  docker(['cp', `${cid}:/usr/local/bin/hello-go`, join(work, 'bin')]);
  docker(['rm', cid]);
  const binaryBytes = statSync(join(work, 'bin')).size;
  const imageBytes = Number(docker(['image', 'inspect', '-f', '{{.Size}}', `${REGISTRY}/bench/hello-go:cold`]).trim());

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
  rmSync(work, { recursive: true, force: true });

  saveResult('go-image', {
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
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
