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
import { cpSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
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

/** A server process for the bench: its pid, and how to stop it. */
interface Served {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a server (ours, or the peer) and resolves once `probe` answers 200. */
async function startServer(file: string, args: readonly string[], probe: string, logFile?: string): Promise<Served> {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(file, [...args], { stdio: ['ignore', 'ignore', out] });
  const stop = () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM'))));
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(probe)).status === 200) return { pid: child.pid as number, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${file} did not become ready`);
}

/** Starts the mirror on `port` and resolves once /readyz answers 200. */
async function startMirror(bin: string, bundle: string, hash: string, port: number, logFile?: string): Promise<Served> {
  return startServer(bin, ['-bundle', bundle, '-listen', `127.0.0.1:${port}`, '-sha256sums-hash', hash], `http://127.0.0.1:${port}/readyz`, logFile);
}

/** Resident memory of a process, from /proc. */
function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs the load generator and returns its JSON answer. */
function loadRun(loadgen: string, args: readonly string[]): Record<string, number> {
  return JSON.parse(execFileSync(loadgen, [...args], { encoding: 'utf8', maxBuffer: 16 << 20 })) as Record<string, number>;
}

/** Holds `conns` idle connections to `addr` and reads the server's RSS while they are held. */
async function idleRss(loadgen: string, addr: string, pid: number, conns: number): Promise<{ opened: number; answered: number; rssMiB: number }> {
  const child = spawn(loadgen, ['idle', '-addr', addr, '-conns', String(conns), '-hold', '3s'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
    child.once('exit', () => reject(new Error(`loadgen idle exited before it reported: ${buf}`)));
  });
  const rss = rssMiB(pid);
  await new Promise((r) => child.once('exit', r));
  const got = JSON.parse(line) as { opened: number; answered: number };
  return { opened: got.opened, answered: got.answered, rssMiB: rss };
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
    const stop = (await startMirror(mirror, helloBundle, helloHash, port)).stop;
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
      await stop();
    }

    // 3. Load: small files of the hello bundle, ours (with its request log written to a file) against
    // Go's http.FileServer on the same folder, side by side, interleaved; then RSS under idle connections.
    const loadgenDir = join(work, 'loadgen');
    mkdirSync(loadgenDir);
    execFileSync('go', ['build', '-trimpath', '-o', loadgenDir, '.'], { cwd: join(ROOT, 'bench/loadgen'), env: { ...GO_ENV, CGO_ENABLED: '0', GOFLAGS: '' } });
    const loadgen = join(loadgenDir, 'loadgen');
    const small = filesUnder(helloBundle)
      .filter((f) => statSync(f).size <= 16 << 10 && !f.endsWith('SHA256SUMS'))
      .map((f) => `/${relative(helloBundle, f)}`);
    const pathsFile = join(work, 'paths.txt');
    writeFileSync(pathsFile, small.join('\n') + '\n');
    const oursPort = 18691;
    const peerPort = 18692;
    const ourServer = await startMirror(mirror, helloBundle, helloHash, oursPort, join(work, 'mirror.log'));
    const peer = await startServer(loadgen, ['fileserver', '-dir', helloBundle, '-listen', `127.0.0.1:${peerPort}`], `http://127.0.0.1:${peerPort}${small[0]}`);
    const connsList = (process.env.BENCH_MIRROR_CONNS ?? '16,64,256').split(',').map(Number);
    const loadSeconds = process.env.BENCH_MIRROR_LOAD_SECONDS ?? '3';
    const load: Record<string, { ours: Array<Record<string, number>>; fileServer: Array<Record<string, number>> }> = {};
    let idle: { ours: { opened: number; answered: number; rssMiB: number; baselineMiB: number }; fileServer: { opened: number; answered: number; rssMiB: number; baselineMiB: number } };
    try {
      for (const conns of connsList) {
        const one = (p: number) => loadRun(loadgen, ['load', '-base', `http://127.0.0.1:${p}`, '-paths', pathsFile, '-conns', String(conns), '-duration', `${loadSeconds}s`]);
        one(oursPort);
        one(peerPort);
        load[conns] = { ours: [], fileServer: [] };
        for (let i = 0; i < RUNS; i++) {
          load[conns].ours.push(one(oursPort));
          load[conns].fileServer.push(one(peerPort));
        }
        console.log(`bench offline-mirror: load at ${conns} connections: ours ${median(load[conns].ours.map((r) => r.requestsPerSecond)).toFixed(0)} req/s, http.FileServer ${median(load[conns].fileServer.map((r) => r.requestsPerSecond)).toFixed(0)} req/s`);
      }
      const idleConns = Number(process.env.BENCH_MIRROR_IDLE ?? 3000);
      const oursBase = rssMiB(ourServer.pid);
      const oursIdle = await idleRss(loadgen, `127.0.0.1:${oursPort}`, ourServer.pid, idleConns);
      const peerBase = rssMiB(peer.pid);
      const peerIdle = await idleRss(loadgen, `127.0.0.1:${peerPort}`, peer.pid, idleConns);
      idle = { ours: { ...oursIdle, baselineMiB: oursBase }, fileServer: { ...peerIdle, baselineMiB: peerBase } };
    } finally {
      await ourServer.stop();
      await peer.stop();
    }
    const loadFigures = Object.fromEntries(
      Object.entries(load).map(([conns, r]) => {
        const rps = (xs: Array<Record<string, number>>) => median(xs.map((x) => x.requestsPerSecond));
        const p99 = (xs: Array<Record<string, number>>) => median(xs.map((x) => x.p99ms));
        return [conns, { oursRps: rps(r.ours), fileServerRps: rps(r.fileServer), oursOverFileServer: rps(r.ours) / rps(r.fileServer), oursP99ms: p99(r.ours), fileServerP99ms: p99(r.fileServer), runs: r }];
      }),
    );

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
      load: { smallFiles: small.length, seconds: Number(loadSeconds), byConnections: loadFigures, idle },
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
