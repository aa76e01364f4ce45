/**
 * Engines: two network namespaces with only loopback each. The connected one
 * has a source registry (docker-registry on 127.0.0.1:5001) holding the bases
 * under their public repository paths, the runtime base as a two-platform
 * index, and the provider mirror; `airgap-kit pack` runs there. Only the
 * archive, the public key and the pinned sha256 move into the air-gapped one,
 * which starts with an empty registry (127.0.0.1:5000), a podman with an empty
 * image store and a real kube-apiserver: there the carried airgap-kit runs with
 * no Go, no Node and an empty HOME, verifies and pushes, and tofu applies the
 * stacks from the carried providers and lock files.
 *
 * Both ways of building are proven: inside the gap (the image stack builds
 * hello-go there from the carried bases) and outside (the image stack is
 * applied on the connected side, its images are carried by digest, and the far
 * side applies only the preview stack).
 */
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { ensureGoTool } from '../../lib/cli/go-tool';
import { makeHelloBundle } from '../support/bundle';
import { seedSourceRegistry, SourceRegistry } from '../support/carry';
import { engineUp, ROOT } from '../support/engine';
import { canCreateNetns, LoopbackNetns, NetnsResult } from '../support/netns';
import { tmp } from '../support/scratch';
import { goTool, toolchain } from '../support/toolchain';

jest.setTimeout(40 * 60 * 1000);

const SOURCE = '127.0.0.1:5001';
const INTERNAL = '127.0.0.1:5000';
const OVERRIDES = ['-source-override', `docker.io/library=${SOURCE}/library`, '-source-override', `gcr.io/distroless=${SOURCE}/distroless`, '-plain-http', SOURCE];
/** The far side's environment: no Go, no Node, no module cache, an empty home. */
const BARE_PATH = '/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';

interface ArchiveManifest {
  images: Array<{ source: string; readFrom?: string; target: string; digest: string; index: boolean; platforms?: string[]; referrers?: string[]; manifests: string[]; blobs: string[]; bytes: number }>;
  providers: Array<{ source: string; platform: string; h1: string }>;
  stacks: Array<{ name: string; dependsOn: string[]; builds?: string[] }>;
  binaries: Array<{ platform: string; path: string }>;
}

let src: SourceRegistry;
let kit: string;
let key: string;
let bundle: { dir: string; hash: string };
let connected: LoopbackNetns;
const gaps: LoopbackNetns[] = [];

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function ok(r: NetnsResult, what: string): NetnsResult {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** Synthesizes main.ts into a fresh folder, with the inputs a pipeline on the connected side would give. */
function synthMain(branch: string, extra: Record<string, string> = {}): string {
  const t = toolchain();
  const outdir = join(tmp('agc-carry-app-'), 'cdktf.out');
  const r = spawnSync(process.execPath, ['--require', 'ts-node/register/transpile-only', join(ROOT, 'main.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDKTF_OUTDIR: outdir,
      PREVIEW_BRANCH: branch,
      PREVIEW_CREATED_AT: '2026-11-30T08:00:00Z',
      PREVIEW_WAIT_FOR_ROLLOUT: 'false',
      BUILDER_DIGEST: src.builderDigest,
      RUNTIME_DIGEST: src.runtimeIndexDigest,
      KUBERNETES_PROVIDER_VERSION: t.versions.kubernetes,
      DOCKER_PROVIDER_VERSION: t.versions.docker,
      OFFLINE_BUNDLE_DIR: bundle.dir,
      OFFLINE_BUNDLE_SHA256SUMS_HASH: bundle.hash,
      AIRGAP_PROVIDER_MIRROR: t.mirror,
      ...extra,
    },
  });
  if (r.status !== 0) throw new Error(`synth of main.ts failed:\n${r.stderr}\n${r.stdout}`);
  return outdir;
}

/** Runs `airgap-kit pack` in the connected namespace and returns the archive's path and pin. */
function pack(outdir: string, name: string, extra: readonly string[] = []): { archive: string; pin: string; manifest: ArchiveManifest; seconds: number } {
  const dir = tmp('agc-carry-pack-');
  const archive = join(dir, name);
  const t0 = Date.now();
  const r = ok(
    connected.exec(kit, ['pack', '-cdktf-out', outdir, '-out', archive, '-key', key, '-provider-mirror', toolchain().mirror, ...OVERRIDES, '-binary', `linux/amd64=${kit}`, ...extra]),
    'airgap-kit pack',
  );
  const seconds = (Date.now() - t0) / 1000;
  const pin = r.stdout.trim();
  expect(pin).toMatch(/^[0-9a-f]{64}$/);
  expect(readFileSync(`${archive}.sha256sums-hash`, 'utf8').trim()).toBe(pin);
  // The pin is the sha256 of the archive's SHA256SUMS, which covers every other file.
  expect(sha256(execFileSync('tar', ['-xOf', archive, 'SHA256SUMS'], { maxBuffer: 64 << 20 }))).toBe(pin);
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as ArchiveManifest;
  return { archive, pin, manifest, seconds };
}

/** A fresh air-gapped namespace: an empty registry, podman with an empty store, a kube-apiserver. */
function newGap(name: string): LoopbackNetns {
  const gap = LoopbackNetns.create(name);
  gaps.push(gap);
  gap.startEngine({ isolated: true, registry: INTERNAL });
  gap.startKube(toolchain().kube);
  return gap;
}

/**
 * Carries the archive, the public key and the pin, and nothing else, into a
 * bare folder; there the operator unpacks the carried airgap-kit and checks it
 * with OpenSSH and coreutils alone before running it.
 */
function carryInto(gap: LoopbackNetns, archive: string, pin: string): { dir: string; kit: string; env: Record<string, string> } {
  const dir = tmp('agc-carry-gap-');
  const home = join(dir, 'home');
  mkdirSync(home);
  copyFileSync(archive, join(dir, 'kit.tar'));
  copyFileSync(`${key}.pub`, join(dir, 'kit-key.pub'));
  writeFileSync(join(dir, 'pin'), `${pin}\n`);
  expect(readdirSync(dir).sort()).toEqual(['home', 'kit-key.pub', 'kit.tar', 'pin']);
  const env = { PATH: BARE_PATH, HOME: home, GOPATH: join(home, 'go'), GOMODCACHE: join(home, 'go/pkg/mod'), GOFLAGS: '', GOPROXY: 'off', DOCKER_CONFIG: join(home, '.docker') };
  const sh = (script: string) => ok(gap.exec('sh', ['-c', script], { cwd: dir, env }), script);
  expect(gap.exec('sh', ['-c', 'command -v go'], { cwd: dir, env }).status).not.toBe(0);
  sh('tar -xf kit.tar SHA256SUMS SHA256SUMS.sig bin/linux-amd64/airgap-kit');
  sh('echo "$(cat pin)  SHA256SUMS" | sha256sum -c -');
  sh('echo "airgap-kit $(cat kit-key.pub)" > allowed_signers && ssh-keygen -Y verify -f allowed_signers -I airgap-kit -n airgap-kit -s SHA256SUMS.sig < SHA256SUMS');
  sh('grep "  bin/linux-amd64/airgap-kit$" SHA256SUMS | sha256sum -c -');
  return { dir, kit: join(dir, 'bin/linux-amd64/airgap-kit'), env };
}

/** tofu in a laid-out stack, with the kit's CLI config and lock file, inside `gap`. */
function tofu(gap: LoopbackNetns, stackDir: string, args: readonly string[]): NetnsResult {
  return gap.exec(toolchain().tofu, [...args, '-no-color', '-input=false'], { cwd: stackDir, env: { TF_CLI_CONFIG_FILE: 'offline/tofurc', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', HOME: tmp('agc-tofu-home-') } });
}

/** Each stack's pin, as `airgap-kit push` printed it in its steps (from the signed archive's SHA256SUMS). */
const stackPins = new Map<string, string>();
function recordPins(steps: string, out: string): void {
  for (const m of steps.matchAll(/^\s+cd (\S+)\n\s+\.\/offline\/verify\.sh ([0-9a-f]{64})$/gm)) stackPins.set(join(out, m[1].replace(/^app\//, '')), m[2]);
}

/** verify.sh with the pin push printed, init (locked) and apply of one laid-out stack; throws with tofu's output. */
function apply(gap: LoopbackNetns, stackDir: string): void {
  const pin = stackPins.get(stackDir);
  if (!pin) throw new Error(`push printed no pin for ${stackDir}`);
  ok(gap.exec('sh', ['offline/verify.sh', pin], { cwd: stackDir }), `verify.sh in ${stackDir}`);
  ok(tofu(gap, stackDir, ['init', '-lockfile=readonly']), `tofu init in ${stackDir}`);
  ok(tofu(gap, stackDir, ['apply', '-auto-approve']), `tofu apply in ${stackDir}`);
}

/** The raw manifest a registry serves, through skopeo (a third-party client) in the namespace. */
function rawManifest(ns: LoopbackNetns, ref: string): string {
  return ok(ns.exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]), `skopeo inspect ${ref}`).stdout;
}

/** The repository of a reference: no tag, no digest. */
function repoOf(ref: string): string {
  return ref.replace(/@sha256:[0-9a-f]{64}$/, '').replace(/:[^/:]+$/, '');
}

/**
 * Every carried manifest (index, per-platform manifests, referrers) is served
 * by the registry in `ns` byte for byte, so with the carried digest; `where`
 * names the image's repository there. In the target the tag resolves too.
 */
function assertDigests(ns: LoopbackNetns, manifest: ArchiveManifest, where: 'source' | 'target'): void {
  for (const img of manifest.images) {
    const repo = repoOf(where === 'source' ? (img.readFrom ?? img.source) : img.target);
    for (const d of img.manifests) expect(`${repo}@sha256:${sha256(rawManifest(ns, `${repo}@${d}`))}`).toBe(`${repo}@${d}`);
    const tagged = img.target.replace(/@sha256:[0-9a-f]{64}$/, '');
    if (where === 'target' && tagged !== repo) expect(sha256(rawManifest(ns, tagged))).toBe(img.digest.slice(7));
  }
}

/** The Pods the ReplicaSet controller made for hello, and the events that say whether admission refused any. */
function helloPods(gap: LoopbackNetns, namespace: string): { pods: number; refusals: string[] } {
  const kubectl = (args: readonly string[]) => ok(gap.exec(toolchain().kube.AGC_KUBECTL, args), `kubectl ${args.join(' ')}`).stdout;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pods = JSON.parse(kubectl(['get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=hello', '-o', 'json'])) as { items: unknown[] };
    const events = JSON.parse(kubectl(['get', 'events', '-n', namespace, '-o', 'json'])) as { items: Array<{ reason: string; message: string }> };
    const refusals = events.items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message);
    if (pods.items.length >= 2 || refusals.length > 0 || Date.now() > deadline) return { pods: pods.items.length, refusals };
    spawnSync('sleep', ['0.5']);
  }
}

/** Applies a laid-out preview stack, checks admission and drift, and destroys it. */
function applyPreviewThenDestroy(gap: LoopbackNetns, stack: string): void {
  apply(gap, stack);
  const { pods, refusals } = helloPods(gap, namespaceOf(stack));
  expect(refusals).toEqual([]);
  expect(pods).toBe(2);
  expect(tofu(gap, stack, ['plan', '-detailed-exitcode']).status).toBe(0);
  ok(tofu(gap, stack, ['destroy', '-auto-approve']), 'destroy preview');
}

function namespaceOf(stackDir: string): string {
  const config = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: { kubernetes_namespace_v1: Record<string, { metadata: { name: string } }> } };
  return Object.values(config.resource.kubernetes_namespace_v1)[0].metadata.name;
}

beforeAll(async () => {
  if (!canCreateNetns()) throw new Error('the carry e2e needs root, to create network namespaces (ip netns add)');
  toolchain();
  engineUp();
  src = await seedSourceRegistry(tmp('agc-carry-src-'));
  bundle = makeHelloBundle();
  // The tool, from the shipped Go source and the install-time module cache: no download here.
  kit = ensureGoTool({ module: 'kit', mainPackage: './cmd/airgap-kit', name: 'airgap-kit' }, { goos: 'linux', goarch: 'amd64' }, { ...process.env, GOPROXY: 'off', GOFLAGS: '' });
  key = join(tmp('agc-carry-key-'), 'kit-key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'release@connected', '-f', key]);
  connected = LoopbackNetns.create('conn');
  connected.startEngine({ isolated: true, registry: SOURCE, storage: src.storage, podman: false, name: 'source' });
});

afterAll(() => {
  for (const g of gaps) g.destroy();
  connected?.destroy();
});

describe('build inside the gap', () => {
  let outdir: string;
  let carried: { archive: string; pin: string; manifest: ArchiveManifest; seconds: number };
  let gap: LoopbackNetns;
  let far: { dir: string; kit: string; env: Record<string, string> };

  test('synth names everything the far side needs: both bases with their public sources, and a lock file per stack', () => {
    outdir = synthMain('feature/carry');
    const images = JSON.parse(readFileSync(join(outdir, 'stacks/images/offline/images.json'), 'utf8')) as { images: Array<{ target: string; source?: string; use: string; digest?: string }> };
    const bases = images.images.filter((i) => i.use === 'base');
    expect(bases.map((b) => b.source).sort()).toEqual([
      `docker.io/library/golang:1.26-bookworm@${src.builderDigest}`,
      `gcr.io/distroless/static-debian13:nonroot@${src.runtimeIndexDigest}`,
    ]);
    expect(bases.map((b) => b.target).sort()).toEqual([`${INTERNAL}/distroless/static-debian13:nonroot@${src.runtimeIndexDigest}`, `${INTERNAL}/library/golang:1.26-bookworm@${src.builderDigest}`]);
    expect(images.images.filter((i) => i.use === 'build').map((b) => b.target.replace(/:ctx-[0-9a-f]{12}$/, '')).sort()).toEqual([`${INTERNAL}/airgap/go-bundle`, `${INTERNAL}/airgap/offline-mirror`, `${INTERNAL}/examples/hello-go`]);
    for (const stack of ['images', 'preview']) {
      const lock = readFileSync(join(outdir, 'stacks', stack, '.terraform.lock.hcl'), 'utf8');
      expect(lock).toMatch(/^provider "registry\.opentofu\.org\/(hashicorp\/kubernetes|kreuzwerker\/docker)" \{$/m);
      expect(lock).toMatch(/"h1:[A-Za-z0-9+/]{43}=",/);
    }
  });

  test('pack, in the connected namespace, reads the bases through the overrides and keeps the whole index', () => {
    carried = pack(outdir, 'kit.tar');
    const m = carried.manifest;
    const runtime = m.images.find((i) => i.source.startsWith('gcr.io/distroless/'));
    expect(runtime).toMatchObject({ digest: src.runtimeIndexDigest, index: true, platforms: ['linux/amd64', 'linux/arm64/v8'] });
    expect(runtime?.manifests).toEqual(expect.arrayContaining([src.runtimeIndexDigest, src.runtimePlatforms['linux/amd64'], src.runtimePlatforms['linux/arm64']]));
    expect(m.images.find((i) => i.source.startsWith('docker.io/library/golang'))).toMatchObject({ digest: src.builderDigest, index: false });
    expect(m.images).toHaveLength(2);
    expect(m.stacks.map((s) => s.name)).toEqual(['images', 'preview']);
    expect(m.stacks[0].builds).toHaveLength(3);
    expect(m.providers.map((p) => `${p.source} ${p.platform}`).sort()).toEqual(['hashicorp/kubernetes linux_amd64', 'kreuzwerker/docker linux_amd64']);
    expect(m.binaries).toEqual([{ platform: 'linux/amd64', path: 'bin/linux-amd64/airgap-kit' }]);
    // Pack writes nothing but the archive: its peak disk use is the archive itself.
    expect(readdirSync(join(carried.archive, '..')).sort()).toEqual(['kit.tar', 'kit.tar.sha256sums-hash']);
    process.stdout.write(`carry: pack ${(readFileSync(carried.archive).length / 2 ** 20).toFixed(1)} MiB in ${carried.seconds.toFixed(1)} s\n`);
  });

  test('third-party tools read the OCI layout in the archive and find the same digests', () => {
    const dir = join(tmp('agc-carry-oci-'), 'x');
    mkdirSync(dir);
    execFileSync('tar', ['-xf', carried.archive, '-C', dir, 'oci']);
    const layout = join(dir, 'oci');
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; mediaType: string; annotations: Record<string, string> }> };
    expect(index.manifests.map((d) => d.digest).sort()).toEqual([src.builderDigest, src.runtimeIndexDigest].sort());
    // oras reads every entry, whatever its media type (the builder keeps its Docker schema 2 manifest, byte for byte).
    const oras = goTool('oras');
    const tags = execFileSync(oras, ['repo', 'tags', '--oci-layout', layout], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(tags).toEqual(index.manifests.map((d) => d.annotations['org.opencontainers.image.ref.name']).sort());
    for (const d of index.manifests) {
      const raw = execFileSync(oras, ['manifest', 'fetch', '--oci-layout', `${layout}:${d.annotations['org.opencontainers.image.ref.name']}`]);
      expect(`sha256:${sha256(raw)}`).toBe(d.digest);
    }
    for (const child of Object.values(src.runtimePlatforms)) {
      expect(`sha256:${sha256(execFileSync(oras, ['manifest', 'fetch', '--oci-layout', `${layout}@${child}`]))}`).toBe(child);
    }
    // skopeo reads OCI-typed entries (it skips others in a layout): the runtime index, and each platform's config through it.
    const runtimeRef = index.manifests.find((d) => d.digest === src.runtimeIndexDigest)?.annotations['org.opencontainers.image.ref.name'];
    for (const arch of ['amd64', 'arm64']) {
      const seen = JSON.parse(execFileSync('skopeo', ['inspect', '--override-arch', arch, `oci:${layout}:${runtimeRef}`], { encoding: 'utf8' })) as { Digest: string; Architecture: string };
      expect(seen).toMatchObject({ Digest: src.runtimeIndexDigest, Architecture: arch });
    }
  });

  test('on the far side, with only the archive, the key and the pin: verify, then push with every digest intact', () => {
    gap = newGap('gap');
    far = carryInto(gap, carried.archive, carried.pin);
    const verify = ok(gap.exec(far.kit, ['verify', '-archive', 'kit.tar', '-public-key', 'kit-key.pub', '-sha256sums-hash-file', 'pin'], { cwd: far.dir, env: far.env }), 'airgap-kit verify');
    expect(verify.stdout).toMatch(/^OK: kit\.tar: signed by SHA256:\S+, SHA256SUMS matches the pin, \d+ files match it, nothing else inside/);
    const t0 = Date.now();
    const push = ok(gap.exec(far.kit, ['push', '-archive', 'kit.tar', '-public-key', 'kit-key.pub', '-sha256sums-hash-file', 'pin', '-out', 'app', '-plain-http', INTERNAL], { cwd: far.dir, env: far.env }), 'airgap-kit push');
    process.stdout.write(`carry: push in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    recordPins(push.stdout, join(far.dir, 'app'));
    expect(push.stdout).toContain('1. images');
    expect(push.stdout).toContain('2. preview (after images)');
    expect(push.stdout).toContain('tofu init -lockfile=readonly');
    // Index and per-platform manifests, the same in source and target.
    assertDigests(connected, carried.manifest, 'source');
    assertDigests(gap, carried.manifest, 'target');
    expect(existsSync(join(far.dir, 'app/providers/registry.opentofu.org/hashicorp/kubernetes'))).toBe(true);
  });

  test('the image stack applies there: tofu verifies the carried providers against the lock file, GoImage builds from the carried bases', () => {
    const stack = join(far.dir, 'app/stacks/images');
    const lockBefore = readFileSync(join(stack, '.terraform.lock.hcl'));
    apply(gap, stack);
    expect(readFileSync(join(stack, '.terraform.lock.hcl')).equals(lockBefore)).toBe(true);
    expect(tofu(gap, stack, ['plan', '-detailed-exitcode']).status).toBe(0);
  });

  test('the preview stack applies against the kube-apiserver: Pods admitted under restricted, no drift, then destroy', () => {
    const stack = join(far.dir, 'app/stacks/preview');
    applyPreviewThenDestroy(gap, stack);
    // One at a time: podman 4.3's Docker API fails to list images while another is being removed.
    ok(tofu(gap, join(far.dir, 'app/stacks/images'), ['destroy', '-auto-approve', '-parallelism=1']), 'destroy images');
  });
});

describe('build outside the gap', () => {
  test('the image stack applies on the connected side; pack carries the built images by digest; the far side applies only the preview stack', () => {
    // The connected side's own internal registry and engine, where the image stack runs.
    connected.startEngine({ isolated: true, registry: INTERNAL, name: 'staging' });
    const copy = (from: string, to: string) => ok(connected.exec('skopeo', ['copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${from}`, `docker://${to}`]), `skopeo copy ${from}`);
    copy(`${SOURCE}/library/golang@${src.builderDigest}`, `${INTERNAL}/library/golang:1.26-bookworm`);
    copy(`${SOURCE}/distroless/static-debian13@${src.runtimeIndexDigest}`, `${INTERNAL}/distroless/static-debian13:nonroot`);
    // hello-go is built ko-style here: a two-platform index with an SBOM per platform, which the carry must keep.
    const hostGo = { GO_IMAGE_PLATFORMS: 'linux/amd64,linux/arm64' };
    const first = synthMain('feature/outside', hostGo);
    const images = join(first, 'stacks/images');
    const connectedTofu = (args: readonly string[]) =>
      connected.exec(toolchain().tofu, [...args, '-no-color', '-input=false'], { cwd: images, env: { TF_CLI_CONFIG_FILE: toolchain().cliConfig, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', AIRGAP_KIT: kit } });
    ok(connectedTofu(['init', '-lockfile=readonly']), 'tofu init (connected)');
    ok(connectedTofu(['apply', '-auto-approve']), 'tofu apply of the image stack (connected)');

    const builtFile = join(tmp('agc-carry-built-'), 'built-images.json');
    ok(connected.exec(kit, ['built-images', '-cdktf-out', first, '-plain-http', INTERNAL, '-o', builtFile]), 'airgap-kit built-images');
    const built = JSON.parse(readFileSync(builtFile, 'utf8')) as { images: Record<string, string> };
    expect(Object.keys(built.images)).toHaveLength(3);

    // Synth again with the digests: the preview stack pins them and reads nothing from the image stack.
    const second = synthMain('feature/outside', { ...hostGo, AIRGAP_BUILT_IMAGES: builtFile });
    const preview = readFileSync(join(second, 'stacks/preview/cdk.tf.json'), 'utf8');
    expect(preview).not.toContain('terraform_remote_state');
    const hello = Object.entries(built.images).find(([t]) => t.includes('/examples/hello-go:'));
    expect(preview).toContain(`${INTERNAL}/examples/hello-go@${hello?.[1]}`);

    const carried = pack(second, 'outside.tar', ['-stack', 'preview', '-plain-http', INTERNAL]);
    expect(carried.manifest.stacks.map((s) => s.name)).toEqual(['preview']);
    expect(carried.manifest.images.map((i) => i.target.replace(/@sha256:.*$/, '')).sort()).toEqual([`${INTERNAL}/airgap/go-bundle`, `${INTERNAL}/airgap/offline-mirror`, `${INTERNAL}/examples/hello-go`]);
    // The hostGo index is carried as an index, with the SBOM of each platform it carries.
    const helloImage = carried.manifest.images.find((i) => i.target.includes('/examples/hello-go@'));
    expect(helloImage?.index).toBe(true);
    expect(helloImage?.referrers?.length).toBe(helloImage?.platforms?.length);
    expect(helloImage?.platforms?.length).toBeGreaterThan(0);

    const gap = newGap('gap2');
    const far = carryInto(gap, carried.archive, carried.pin);
    const pushed = ok(gap.exec(far.kit, ['push', '-archive', 'kit.tar', '-public-key', 'kit-key.pub', '-sha256sums-hash-file', 'pin', '-out', 'app', '-plain-http', INTERNAL, '-json'], { cwd: far.dir, env: far.env }), 'airgap-kit push');
    const result = pushed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; steps?: string }).find((e) => e.event === 'result');
    recordPins(result?.steps ?? '', join(far.dir, 'app'));
    assertDigests(connected, carried.manifest, 'source');
    assertDigests(gap, carried.manifest, 'target');
    expect(existsSync(join(far.dir, 'app/stacks/images'))).toBe(false);
    const stack = join(far.dir, 'app/stacks/preview');
    applyPreviewThenDestroy(gap, stack);
  });
});

test('nothing in either namespace could reach anything but loopback', () => {
  expect(gaps).toHaveLength(2);
  for (const ns of [connected, ...gaps]) {
    const links = ok(ns.exec('ip', ['-o', 'link']), 'ip link').stdout.trim().split('\n');
    expect(links.map((l) => l.split(': ')[1])).toEqual(['lo']);
  }
});
