/**
 * Engine: podman 4.3 through its Docker-compatible API and the local registry
 * (scripts/engine/up.sh). The mirror's image is built by our own GoImage from
 * mirror/cmd/offline-mirror, the bundle is made by offline-bundle from
 * hello-go's module graph (read from the install-time module cache, so nothing
 * is downloaded), and its data image by OfflineBundleImage. Then:
 * the mirror runs as uid 65532 on a read-only root and hello-go's image builds
 * in GoImage proxy mode with its modules fetched from that container; the
 * pod's init-container chain, as OfflineMirror synthesizes it, runs on the
 * engine; and a spoiled bundle keeps the container unready.
 */
import { execFileSync, spawnSync } from 'child_process';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { App } from 'cdktf';
import { ImageStack, PreviewStack } from '../../examples/preview-app';
import { AirgapStack, BaseImage, GoImage, ModuleSource, OfflineBundle, RegistryMirror } from '../../lib';
import { makeHelloBundle } from '../support/bundle';
import { docker, dockerStatus, engineUp, REGISTRY, waitForStatus } from '../support/engine';
import { copyHelloGo, tmp } from '../support/scratch';
import { dig, onlyResource, synthJson } from '../support/synth';

jest.setTimeout(20 * 60 * 1000);

const PORT = 18686;
const MIRROR_TAG = `${REGISTRY}/e2e/offline-mirror:test`;
const BUNDLE_TAG = `${REGISTRY}/e2e/go-bundle:test`;

let bundleDir: string;
let pin: string;
let images: ImageStack;
const containers: string[] = [];

/** Builds a staged context with the engine, as the docker provider would. */
function build(contextDir: string, tag: string, network = 'none', extra: readonly string[] = []): void {
  docker(['build', '--network', network, ...extra, '--build-arg', 'SOURCE_DATE_EPOCH=0', '-t', tag, contextDir]);
}

/**
 * Runs a container to its end and returns its exit code and logs. No --rm:
 * podman 4.3's Docker API can remove the container before the CLI reads its
 * exit code, and then reports 0.
 */
function runToEnd(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const name = `agc-mirror-e2e-${process.pid}-${containers.length}`;
  containers.push(name);
  const r = dockerStatus(['run', '--name', name, ...args]);
  const code = Number(docker(['inspect', '-f', '{{.State.ExitCode}}', name]).trim());
  return { status: code, stdout: r.stdout, stderr: r.stderr };
}

function run(args: readonly string[]): string {
  const cid = docker(['run', '-d', ...args]).trim();
  containers.push(cid);
  return cid;
}

beforeAll(() => {
  const info = engineUp();
  ({ dir: bundleDir, hash: pin } = makeHelloBundle());
  const outdir = tmp('agc-mirror-synth-');
  const app = new App({ outdir });
  images = new ImageStack(app, 'images', {
    registry: REGISTRY,
    builderDigest: info.builderDigest,
    runtimeDigest: info.runtimeDigest,
    bundle: { dir: bundleDir, sha256sumsHash: pin },
  });
  app.synth();
  const stackDir = join(outdir, 'stacks', 'images');
  build(join(stackDir, images.mirror!.contextPath), MIRROR_TAG);
  build(join(stackDir, images.bundle!.contextPath), BUNDLE_TAG);
});

afterAll(() => {
  if (containers.length > 0) dockerStatus(['rm', '-f', ...containers]);
  dockerStatus(['rmi', '-f', MIRROR_TAG, BUNDLE_TAG]);
});

test('the mirror image runs as uid 65532 on a read-only root, verifies the bundle, and hello-go builds in proxy mode through it', async () => {
  const info = engineUp();
  const cid = run([
    '--network', 'host', '--read-only', '--user', '65532:65532', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '-v', `${bundleDir}:/bundle:ro`,
    MIRROR_TAG, '-bundle', '/bundle', '-listen', `127.0.0.1:${PORT}`, '-sha256sums-hash', pin,
  ]);
  expect(await waitForStatus(`http://127.0.0.1:${PORT}/readyz`, 200, 30000)).toBe(200);
  const pid = docker(['inspect', '-f', '{{.State.Pid}}', cid]).trim();
  expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
  // Its own exec-probe mode, as the Pod's probes run it (the image has no shell or curl).
  expect(dockerStatus(['exec', cid, '/usr/local/bin/offline-mirror', '-healthcheck', `http://127.0.0.1:${PORT}/readyz`]).status).toBe(0);
  expect(dockerStatus(['exec', cid, '/bin/sh', '-c', 'true']).status).not.toBe(0);

  // GoImage in proxy mode, the builder stage fetching modules from the container.
  const moduleDir = copyHelloGo(false);
  const app = new App({ outdir: tmp('agc-proxy-') });
  const stack = new AirgapStack(app, 'images');
  new DockerProvider(stack, 'docker', {});
  const hello = new GoImage(stack, 'hello', {
    moduleDir,
    registry: REGISTRY,
    repository: 'e2e/hello-go-mirror',
    builder: BaseImage.golang({ digest: info.builderDigest }),
    runtime: BaseImage.distrolessStatic({ digest: info.runtimeDigest }),
    mirror: RegistryMirror.of({ 'docker.io/library': `${REGISTRY}/library`, 'gcr.io/distroless': `${REGISTRY}/distroless` }),
    moduleSource: ModuleSource.proxy(`http://127.0.0.1:${PORT}`),
  });
  app.synth();
  const tag = `${REGISTRY}/e2e/hello-go-mirror:test`;
  try {
    // No layer cache: an earlier run's module layer would leave the mirror nothing to serve.
    build(join(app.outdir, 'stacks', 'images', hello.contextPath), tag, 'host', ['--no-cache']);
    const requests = docker(['logs', cid])
      .split('\n')
      .concat(dockerStatus(['logs', cid]).stderr.split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { path?: string; status?: number });
    expect(requests).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/golang.org/x/text/@v/v0.43.0.zip', status: 200 })]));
    const metrics = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text();
    expect(metrics).toMatch(/^offline_mirror_verified 1$/m);
    expect(metrics).toMatch(/^offline_mirror_requests_total\{code="200"\} [1-9]/m);
  } finally {
    dockerStatus(['rmi', '-f', tag]);
  }
});

test('the init containers OfflineMirror writes run on the engine: install-self, then the FROM scratch bundle image installs a verified copy', async () => {
  // The pod spec exactly as synthesized, read back from cdk.tf.json.
  const app = new App({ outdir: tmp('agc-preview-') });
  const preview = new PreviewStack(app, 'preview', {
    branch: 'mirror-e2e',
    image: `${REGISTRY}/examples/hello-go@sha256:${'0'.repeat(64)}`,
    mirror: { image: `${REGISTRY}/e2e/offline-mirror@sha256:${'1'.repeat(64)}`, bundle: OfflineBundle.fromImage(`${REGISTRY}/e2e/go-bundle@sha256:${'2'.repeat(64)}`, { sha256sumsHash: pin }) },
  });
  const pod = dig(onlyResource(synthJson(preview), 'kubernetes_deployment_v1'), 'spec.template.spec') as Record<string, unknown>;
  const [tools, installer] = pod.init_container as Array<{ args: string[]; command?: string[]; volume_mount: Array<{ name: string; mount_path: string; read_only?: boolean }> }>;
  const server = (pod.container as Array<{ name: string; args: string[] }>).find((c) => c.name === 'offline-mirror')!;
  // The bundle image is data only: no program, no entrypoint.
  const config = JSON.parse(docker(['image', 'inspect', '-f', '{{json .Config}}', BUNDLE_TAG])) as { Entrypoint?: string[] | null; Cmd?: string[] | null };
  expect([...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]).toEqual([]);
  const layers = JSON.parse(docker(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', BUNDLE_TAG])) as string[];
  expect(layers).toHaveLength(1); // FROM scratch: the bundle is the only layer

  // The two emptyDirs, as host folders uid 65532 can write.
  const volumes: Record<string, string> = {};
  for (const name of ['offline-mirror-tools', 'offline-mirror-bundle']) {
    volumes[name] = tmp(`agc-${name}-`);
    chmodSync(volumes[name], 0o777);
  }
  const mounts = (c: { volume_mount: Array<{ name: string; mount_path: string; read_only?: boolean }> }) =>
    c.volume_mount.flatMap((m) => ['-v', `${volumes[m.name]}:${m.mount_path}${m.read_only ? ':ro' : ''}`]);
  const restricted = ['--network', 'none', '--read-only', '--user', '65532:65532', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];

  const first = runToEnd([...restricted, ...mounts(tools), MIRROR_TAG, ...tools.args]);
  expect({ status: first.status, stderr: first.status === 0 ? '' : first.stderr }).toEqual({ status: 0, stderr: '' });
  const second = runToEnd([...restricted, ...mounts(installer), '--entrypoint', installer.command![0], BUNDLE_TAG, ...installer.args]);
  expect({ status: second.status, stderr: second.status === 0 ? '' : second.stderr }).toEqual({ status: 0, stderr: expect.anything() });
  expect(second.stderr).toContain('"msg":"installed bundle"');
  expect(readFileSync(join(volumes['offline-mirror-bundle'], 'SHA256SUMS'))).toEqual(readFileSync(join(bundleDir, 'SHA256SUMS')));

  // The sidecar's own args, on the installed copy, become ready.
  const listen = server.args.indexOf('-listen');
  const args = [...server.args];
  args[listen + 1] = `127.0.0.1:${PORT + 1}`;
  run(['--network', 'host', '--read-only', '--user', '65532:65532', '--cap-drop', 'ALL', '-v', `${volumes['offline-mirror-bundle']}:/var/run/offline-mirror/bundle:ro`, MIRROR_TAG, ...args]);
  expect(await waitForStatus(`http://127.0.0.1:${PORT + 1}/readyz`, 200, 30000)).toBe(200);

  // A wrong pin: the installer refuses, names SHA256SUMS, and the pod would never start.
  const spoiled = tmp('agc-mirror-spoiled-');
  chmodSync(spoiled, 0o777);
  const pinAt = installer.args.indexOf('-sha256sums-hash') + 1;
  const wrongPin = [...installer.args];
  wrongPin[pinAt] = 'f'.repeat(64);
  const refused = runToEnd([...restricted, '-v', `${volumes['offline-mirror-tools']}:/var/run/offline-mirror/tools:ro`, '-v', `${spoiled}:/var/run/offline-mirror/bundle`, '--entrypoint', installer.command![0], BUNDLE_TAG, ...wrongPin]);
  expect({ status: refused.status, out: refused.status === 1 ? '' : `${refused.stdout}${refused.stderr}` }).toEqual({ status: 1, out: '' });
  expect(refused.stderr).toMatch(/"file":"SHA256SUMS","reason":"sha256 [0-9a-f]{64} does not match the pinned hash f{64}"/);
  expect(spawnSync('ls', ['-A', spoiled], { encoding: 'utf8' }).stdout).toBe('');
});

test('fails closed as a container: one flipped byte keeps /readyz at 503, names the file, and serves nothing', async () => {
  const copy = join(tmp('agc-bundle-flip-'), 'bundle');
  cpSync(bundleDir, copy, { recursive: true });
  const file = join(copy, 'golang.org/x/text/@v/list');
  const bytes = readFileSync(file);
  bytes[0] ^= 0x01;
  writeFileSync(file, bytes);
  execFileSync('chmod', ['-R', 'a+rX', join(copy, '..')]);
  const cid = run(['--network', 'host', '--read-only', '--user', '65532:65532', '--cap-drop', 'ALL', '-v', `${copy}:/bundle:ro`, MIRROR_TAG, '-bundle', '/bundle', '-listen', `127.0.0.1:${PORT + 2}`, '-sha256sums-hash', pin]);
  expect(await waitForStatus(`http://127.0.0.1:${PORT + 2}/healthz`, 200, 30000)).toBe(200);
  // Give verification time to finish: it stays 503 for good, not just while verifying.
  await new Promise((r) => setTimeout(r, 1500));
  expect((await fetch(`http://127.0.0.1:${PORT + 2}/readyz`)).status).toBe(503);
  expect((await fetch(`http://127.0.0.1:${PORT + 2}/golang.org/x/text/@v/v0.43.0.mod`)).status).toBe(503);
  const logs = dockerStatus(['logs', cid]);
  expect(`${logs.stdout}${logs.stderr}`).toContain('golang.org/x/text/@v/list');
  expect(`${logs.stdout}${logs.stderr}`).toMatch(/sha256 mismatch/);
});
