/**
 * The carry: `airgap-kit pack` and `airgap-kit push` of the two bases (the
 * builder, a few hundred MB, and the runtime as a two-platform index) against
 * `skopeo copy --all --preserve-digests` (registry to dir: and back) and
 * `oras cp` (registry to an OCI layout and back) of the same images, in the
 * same run, interleaved, on loopback registries.
 * Throughput is image bytes (blobs and manifests) per second; peak RSS from
 * GNU time; disk is what each leaves on disk (pack stages nothing, so its
 * peak is the archive).
 *
 *   npm run bench -- carry
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ensureGoTool } from '../lib/cli/go-tool';
import { freePort, seedSourceRegistry } from '../test/support/carry';
import { median, saveResult } from './results';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Timed {
  readonly seconds: number;
  readonly maxRssKiB: number;
}

/** Runs a command under GNU time; returns wall seconds and peak RSS. */
function timed(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', file, ...args], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  return { seconds, maxRssKiB: Number(lines[lines.length - 1]) };
}

function du(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, e) => n + du(join(path, e)), 0);
}

/** Every registry started, so a failed run stops them too. */
const running = new Set<() => Promise<void>>();

/** A registry on loopback with its storage in `dir`, until stop(). */
async function registry(dir: string): Promise<{ addr: string; stop: () => Promise<void> }> {
  const addr = `127.0.0.1:${await freePort()}`;
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, '..', `${addr.replace(':', '_')}.yml`);
  writeFileSync(cfg, `version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: ${dir}}\nhttp:\n  addr: ${addr}\n`);
  const p = spawn('docker-registry', ['serve', cfg], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://${addr}/v2/`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stop = (): Promise<void> => {
    running.delete(stop);
    return p.exitCode !== null ? Promise.resolve() : new Promise((r) => (p.once('exit', () => r()), p.kill('SIGTERM')));
  };
  running.add(stop);
  return { addr, stop };
}

/** A synthesized app whose one stack needs just the two bases, in target registry `target`. */
function baseApp(dir: string, target: string, builder: string, runtime: string): string {
  const stack = join(dir, 'stacks', 'bases');
  mkdirSync(join(stack, 'offline'), { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ stacks: { bases: { name: 'bases', workingDirectory: 'stacks/bases', dependencies: [] } } }));
  const files: Record<string, string> = {
    'cdk.tf.json': '{}\n',
    'offline/images.json': JSON.stringify({
      formatVersion: 1,
      platforms: ['linux/amd64', 'linux/arm64'],
      images: [
        { target: `${target}/library/golang:1.26-bookworm@${builder}`, source: `docker.io/library/golang:1.26-bookworm@${builder}`, digest: builder, use: 'base', neededBy: ['bench'] },
        { target: `${target}/distroless/static-debian13:nonroot@${runtime}`, source: `gcr.io/distroless/static-debian13:nonroot@${runtime}`, digest: runtime, use: 'base', neededBy: ['bench'] },
      ],
    }),
    'offline/providers.json': JSON.stringify({ formatVersion: 1, platforms: ['linux_amd64'], providers: [] }),
  };
  const sums: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    writeFileSync(join(stack, rel), text);
    sums.push(`${createHash('sha256').update(text).digest('hex')}  ${rel}`);
  }
  writeFileSync(join(stack, 'SHA256SUMS'), sums.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1)).join('\n') + '\n');
  return dir;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'agc-bench-carry-'));
  try {
    const src = await seedSourceRegistry(join(work, 'seed'));
    const kit = ensureGoTool({ module: 'kit', mainPackage: './cmd/airgap-kit', name: 'airgap-kit' });
    const oras = /AGC_ORAS=(\S+)/.exec(execFileSync('bash', [join(__dirname, '../scripts/go-tools.sh')], { encoding: 'utf8' }))?.[1] as string;
    const key = join(work, 'kit-key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const source = await registry(src.storage);
    const rounds: Array<Record<string, Timed & { bytes?: number; disk?: number }>> = [];
    let imageBytes = 0;
    try {
      for (let run = 0; run < RUNS; run++) {
        const round: Record<string, Timed & { bytes?: number; disk?: number }> = {};
        const dir = join(work, `run${run}`);
        mkdirSync(dir);
        // Ours: pack, then verify and push into an empty registry.
        const ourTarget = await registry(join(dir, 'ours-target'));
        const app = baseApp(join(dir, 'cdktf.out'), ourTarget.addr, src.builderDigest, src.runtimeIndexDigest);
        const archive = join(dir, 'pack', 'bases.tar');
        mkdirSync(join(dir, 'pack'));
        const overrides = ['-source-override', `docker.io/library=${source.addr}/library`, '-source-override', `gcr.io/distroless=${source.addr}/distroless`, '-plain-http', source.addr];
        round.oursPack = timed(kit, ['pack', '-cdktf-out', app, '-out', archive, '-key', key, ...overrides]);
        round.oursPack.disk = du(join(dir, 'pack'));
        const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as { images: Array<{ bytes: number }> };
        imageBytes = manifest.images.reduce((n, i) => n + i.bytes, 0);
        const pin = readFileSync(`${archive}.sha256sums-hash`, 'utf8').trim();
        round.oursVerify = timed(kit, ['verify', '-archive', archive, '-public-key', `${key}.pub`, '-sha256sums-hash', pin]);
        round.oursPush = timed(kit, ['push', '-archive', archive, '-public-key', `${key}.pub`, '-sha256sums-hash', pin, '-out', join(dir, 'far'), '-plain-http', ourTarget.addr]);
        await ourTarget.stop();

        // The peers, on the same two images: skopeo (registry to one dir: folder per image, and back:
        // its OCI layout cannot hold the builder's Docker manifest with --preserve-digests and be read back)
        // and oras (registry to an OCI layout, and back), each into an empty registry.
        const copies: Array<[string, string]> = [
          [`library/golang@${src.builderDigest}`, 'golang'],
          [`distroless/static-debian13@${src.runtimeIndexDigest}`, 'runtime'],
        ];
        const sum = (ts: Timed[]): Timed => ({ seconds: ts.reduce((n, t) => n + t.seconds, 0), maxRssKiB: Math.max(...ts.map((t) => t.maxRssKiB)) });
        const skDir = join(dir, 'skopeo');
        mkdirSync(skDir);
        const skopeo = (args: readonly string[]) => timed('skopeo', ['--insecure-policy', ...args]);
        round.skopeoPack = sum(copies.map(([ref, name]) => skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', `docker://${source.addr}/${ref}`, `dir:${join(skDir, name)}`])));
        round.skopeoPack.disk = du(skDir);
        const skTarget = await registry(join(dir, 'skopeo-target'));
        round.skopeoPush = sum(copies.map(([ref, name]) => skopeo(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `dir:${join(skDir, name)}`, `docker://${skTarget.addr}/${ref.split('@')[0]}:bench`])));
        await skTarget.stop();
        rmSync(skDir, { recursive: true, force: true });

        const layout = join(dir, 'oras', 'oci');
        mkdirSync(join(dir, 'oras'));
        round.orasPack = sum(copies.map(([ref, name]) => timed(oras, ['cp', '--from-plain-http', '--to-oci-layout', `${source.addr}/${ref}`, `${layout}:${name}`])));
        round.orasPack.disk = du(join(dir, 'oras'));
        const orTarget = await registry(join(dir, 'oras-target'));
        round.orasPush = sum(copies.map(([ref, name]) => timed(oras, ['cp', '--to-plain-http', '--from-oci-layout', `${layout}:${name}`, `${orTarget.addr}/${ref.split('@')[0]}:bench`])));
        await orTarget.stop();
        rounds.push(round);
        rmSync(dir, { recursive: true, force: true });
        console.log(`bench carry: run ${run + 1}/${RUNS}: ${Object.entries(round).map(([k, v]) => `${k} ${v.seconds.toFixed(2)} s`).join(', ')}`);
      }
    } finally {
      await source.stop();
    }
    const med = (key: string, f: (t: Timed & { disk?: number }) => number) => median(rounds.map((r) => f(r[key])));
    const MiB = imageBytes / 2 ** 20;
    const figure = (key: string) => ({
      seconds: med(key, (t) => t.seconds),
      mibPerSecond: MiB / med(key, (t) => t.seconds),
      maxRssMiB: med(key, (t) => t.maxRssKiB) / 1024,
      diskMiB: rounds[0][key].disk !== undefined ? med(key, (t) => t.disk ?? 0) / 2 ** 20 : undefined,
      runs: rounds.map((r) => r[key].seconds),
    });
    const figures = {
      imageMiB: MiB,
      images: 'builder (single manifest) and runtime (two-platform index)',
      runsPerTool: RUNS,
      oursPack: figure('oursPack'),
      oursVerify: figure('oursVerify'),
      oursPush: figure('oursPush'),
      skopeoPack: figure('skopeoPack'),
      skopeoPush: figure('skopeoPush'),
      orasPack: figure('orasPack'),
      orasPush: figure('orasPush'),
      skopeoVersion: execFileSync('skopeo', ['--version'], { encoding: 'utf8' }).trim(),
      orasVersion: execFileSync(oras, ['version'], { encoding: 'utf8' }).split('\n')[0].trim(),
    };
    const rate = (k: keyof typeof figures) => (figures[k] as { mibPerSecond: number }).mibPerSecond;
    const packOverFasterPeer = rate('oursPack') / Math.max(rate('skopeoPack'), rate('orasPack'));
    const pushOverFasterPeer = rate('oursPush') / Math.max(rate('skopeoPush'), rate('orasPush'));
    saveResult('carry', { ...figures, packOverFasterPeer, pushOverFasterPeer });
  } finally {
    for (const stop of [...running]) await stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
