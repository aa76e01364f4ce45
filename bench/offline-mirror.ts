/**
 * OfflineMirror's server: start-up verification throughput against
 * `sha256sum` over the same bundle (the physical limit), and `go mod download`
 * of hello-go's graph through the mirror against `GOPROXY=file://` on the same
 * tree.
 *
 *   npm run bench -- offline-mirror
 */
import { execFileSync, spawn } from 'child_process';
import { createHash } from 'crypto';
import { cpSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, relative } from 'path';
import { HELLO_GO_DIR } from '../examples/preview-app';
import { ROOT } from '../test/support/engine';
import { median, saveResult } from './results';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GO_ENV = { ...process.env, GOTOOLCHAIN: 'local', GOWORK: 'off', GOFLAGS: '-mod=mod' };

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * A large bundle: the module zips, .mod and .info files of the toolchain's
 * module cache (real Go modules, hard-linked), sealed with SHA256SUMS as
 * offline-bundle seals one.
 */
function largeBundle(work: string): { dir: string; hash: string; files: number; bytes: number } {
  const src = join(process.env.AGC_CACHE_DIR ?? join(process.env.HOME ?? '/root', '.cache/airgap-go-constructs'), 'go/mod/cache/download');
  const dir = join(work, 'large');
  const limit = Number(process.env.BENCH_MIRROR_BYTES ?? 400 * 2 ** 20);
  let bytes = 0;
  const lines: string[] = [];
  for (const file of filesUnder(src)) {
    if (!/\.(zip|mod|info)$/.test(file) || file.includes('/sumdb/')) continue;
    const rel = relative(src, file);
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    linkSync(file, join(dir, rel));
    bytes += statSync(file).size;
    if (bytes > limit) break;
  }
  const files = filesUnder(dir);
  for (const f of files) lines.push(`${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${relative(dir, f)}`);
  const sums = lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n') + '\n';
  writeFileSync(join(dir, 'SHA256SUMS'), sums);
  return { dir, hash: createHash('sha256').update(sums).digest('hex'), files: files.length, bytes };
}

/** Starts the server on `port` and resolves once /readyz answers 200. */
async function startMirror(bin: string, bundle: string, hash: string, port: number): Promise<() => void> {
  const child = spawn(bin, ['-bundle', bundle, '-listen', `127.0.0.1:${port}`, '-sha256sums-hash', hash], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return () => child.kill('SIGTERM');
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('mirror did not become ready');
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'agc-bench-mirror-'));
  try {
    const bin = join(work, 'bin');
    mkdirSync(bin);
    execFileSync('go', ['build', '-trimpath', '-o', bin, './cmd/offline-mirror', './cmd/offline-bundle'], { cwd: join(ROOT, 'mirror'), env: { ...GO_ENV, CGO_ENABLED: '0', GOFLAGS: '' } });
    const mirror = join(bin, 'offline-mirror');
    const bundler = join(bin, 'offline-bundle');

    // 1. Verification throughput, page cache warm for every contender (one untimed pass first).
    // The large bundle is made of the toolchain's module cache, which this fills when it is absent.
    execFileSync('bash', [join(ROOT, 'scripts/toolchain.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const large = largeBundle(work);
    const verifyCmd = () => execFileSync(bundler, ['-verify', large.dir, '-sha256sums-hash', large.hash], { stdio: 'ignore' });
    const sha256sumCmd = () => execFileSync('sha256sum', ['--check', '--quiet', '--strict', 'SHA256SUMS'], { cwd: large.dir, stdio: 'ignore' });
    // sha256sum split over every core: the limit for a tool that may use them all.
    const cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
    const parallelCmd = () =>
      execFileSync('bash', ['-c', `split -n r/${cores} --filter='sha256sum --check --quiet --strict -' SHA256SUMS`], { cwd: large.dir, stdio: 'ignore' });
    for (const f of [verifyCmd, sha256sumCmd, parallelCmd]) f();
    const ours: number[] = [];
    const single: number[] = [];
    const parallel: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(seconds(verifyCmd));
      single.push(seconds(sha256sumCmd));
      parallel.push(seconds(parallelCmd));
    }
    const mib = large.bytes / 2 ** 20;

    // 2. go mod download of hello-go's graph: through the mirror, and straight from the same tree by file://.
    const cache = execFileSync('bash', [join(ROOT, 'scripts/go-modcache.sh')], { encoding: 'utf8' }).trim();
    const helloBundle = join(work, 'hello-bundle');
    const helloHash = execFileSync(bundler, ['-out', helloBundle, HELLO_GO_DIR], {
      encoding: 'utf8',
      env: { ...GO_ENV, GOPROXY: `file://${cache}/cache/download`, GOSUMDB: 'off', GOFLAGS: '' },
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const module = join(work, 'hello-go');
    cpSync(HELLO_GO_DIR, module, { recursive: true, filter: (s) => !s.includes('/vendor') && !s.endsWith('/hello-go/hello-go') });
    const download = (proxy: string) => {
      const modcache = mkdtempSync(join(work, 'modcache-'));
      const t = seconds(() => execFileSync('go', ['mod', 'download', 'all'], { cwd: module, env: { ...GO_ENV, GOPROXY: proxy, GOMODCACHE: modcache, GOFLAGS: '-mod=mod -modcacherw' }, stdio: 'ignore' }));
      rmSync(modcache, { recursive: true, force: true });
      return t;
    };
    const port = 18690;
    const stop = await startMirror(mirror, helloBundle, helloHash, port);
    const viaMirror: number[] = [];
    const viaFile: number[] = [];
    try {
      download(`http://127.0.0.1:${port},off`);
      download(`file://${helloBundle},off`);
      for (let i = 0; i < RUNS; i++) {
        viaMirror.push(download(`http://127.0.0.1:${port},off`));
        viaFile.push(download(`file://${helloBundle},off`));
      }
    } finally {
      stop();
    }

    saveResult('offline-mirror', {
      runs: RUNS,
      cores,
      verify: {
        files: large.files,
        bytes: large.bytes,
        oursSeconds: ours,
        sha256sumSeconds: single,
        sha256sumParallelSeconds: parallel,
        oursMedian: median(ours),
        sha256sumMedian: median(single),
        sha256sumParallelMedian: median(parallel),
        oursMiBps: mib / median(ours),
        sha256sumMiBps: mib / median(single),
        sha256sumParallelMiBps: mib / median(parallel),
        oursOverSha256sum: median(single) / median(ours),
        oursOverParallel: median(parallel) / median(ours),
      },
      download: {
        modules: 4,
        viaMirrorSeconds: viaMirror,
        viaFileSeconds: viaFile,
        viaMirrorMedian: median(viaMirror),
        viaFileMedian: median(viaFile),
        mirrorOverFile: median(viaMirror) / median(viaFile),
      },
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
