/**
 * Engine: podman 4.3 through its Docker-compatible API (the docker CLI) and its
 * own libpod API, plus the local registry on 127.0.0.1:5000, all brought up by
 * scripts/engine/up.sh. Base images are the locally built stand-ins, pinned by
 * their real registry digests. Nothing is pulled from outside.
 */
import { execFileSync } from 'child_process';
import { readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { App } from 'cdktf';
import { AirgapStack, BaseImage, GoImage, ModuleSource, RegistryMirror } from '../../lib';
import { docker, dockerAsync, dockerStatus, engineUp, REGISTRY, serveDirectory, synthImageStack, waitForStatus } from '../support/engine';
import { copyHelloGo, tmp } from '../support/scratch';

jest.setTimeout(15 * 60 * 1000);

/** Rewrites main.go with content never built before, so no earlier run's layer cache can match it. */
function changeSource(moduleDir: string): void {
  const nonce = `${process.pid}-${process.hrtime.bigint()}`;
  const file = join(moduleDir, 'main.go');
  writeFileSync(file, readFileSync(file, 'utf8').replace('var version = "dev"', `var version = "dev-${nonce}"`));
}

/** The registry's manifest digest for `repo:tag`, as a cluster would pin it. */
async function registryDigest(repo: string, tag: string): Promise<string> {
  const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  expect(res.status).toBe(200);
  return res.headers.get('docker-content-digest') as string;
}

/** The image config blob the registry holds for `repo:tag`. */
async function registryConfig(repo: string, tag: string): Promise<Record<string, unknown>> {
  const manifest = (await (
    await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } })
  ).json()) as { config: { digest: string } };
  return (await (await fetch(`http://${REGISTRY}/v2/${repo}/blobs/${manifest.config.digest}`)).json()) as Record<string, unknown>;
}

/** JSON paths at which two values differ. */
function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return [path];
}

/** Every entry of every layer of an image, read from `docker save`. */
function imageEntries(tag: string): Array<{ path: string; executable: boolean; directory: boolean }> {
  const dir = tmp('agc-save-');
  const archive = join(dir, 'image.tar');
  docker(['save', '-o', archive, tag]);
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  const [manifest] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
  return manifest.Layers.flatMap((layer) =>
    execFileSync('tar', ['-tvf', join(dir, layer)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((l) => {
        // `tar -tv`: perms owner/group size date time name [-> target | link to target]
        const m = /^(\S+)\s+\S+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(l);
        if (!m) throw new Error(`unexpected tar line: ${l}`);
        const path = m[2].split(' -> ')[0].split(' link to ')[0].replace(/^\.\//, '').replace(/\/$/, '');
        const perms = m[1];
        return { path, executable: perms[0] === '-' && /x/.test(perms), directory: perms[0] === 'd' };
      }),
  );
}

/** Builds through the Docker API and returns the build log. */
function build(tag: string, context: string, ...extra: string[]): string {
  return docker(['build', ...extra, '-t', tag, context]);
}

/** The "--> Using cache" verdict for the build step whose instruction contains `instruction`. */
function stepCached(log: string, instruction: string): boolean {
  const lines = log.split('\n');
  const i = lines.findIndex((l) => /STEP \d+\/\d+: /.test(l) && l.includes(instruction));
  if (i < 0) throw new Error(`no build step "${instruction}" in:\n${log}`);
  return /^--> Using cache /.test(lines[i + 1] ?? '');
}

beforeAll(() => {
  engineUp();
}, 20 * 60 * 1000);

describe('GoImage on a real engine', () => {
  test('hello-go from the generated Dockerfile: uid 65532, healthy, ready, no shell, binary + <= 3 MiB, graceful stop', async () => {
    const { contextDir } = synthImageStack();
    const tag = `${REGISTRY}/e2e/hello-go:check`;
    build(tag, contextDir, '--network', 'none');
    const cid = docker(['run', '-d', '-p', '127.0.0.1::8080', tag]).trim();
    try {
      const hostPort = docker(['port', cid, '8080/tcp']).trim().split('\n')[0];
      expect(await waitForStatus(`http://${hostPort}/readyz`, 200)).toBe(200);
      expect((await fetch(`http://${hostPort}/healthz`)).status).toBe(200);
      expect((await fetch(`http://${hostPort}/hello?name=Ada`, { headers: { 'Accept-Language': 'de-CH' } })).status).toBe(200);

      // The process itself, seen from the host's /proc: every uid and gid is 65532.
      const pid = docker(['inspect', '-f', '{{.State.Pid}}', cid]).trim();
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
      expect(status).toMatch(/^Gid:\s+65532\s+65532\s+65532\s+65532$/m);
      expect(docker(['image', 'inspect', '-f', '{{.Config.User}}', tag]).trim()).toBe('65532:65532');

      // No shell: it cannot be run, and no shell file exists anywhere in the filesystem.
      expect(dockerStatus(['run', '--rm', '--entrypoint', '/bin/sh', tag, '-c', 'true']).status).not.toBe(0);
      const entries = imageEntries(tag);
      expect(entries.map((e) => e.path)).toContain('usr/local/bin/hello-go');
      expect(entries.filter((e) => /(^|\/)(sh|bash|dash|ash|zsh|busybox)$/.test(e.path))).toEqual([]);
      // The binary is the only executable file in the image.
      expect(entries.filter((e) => e.executable && !e.directory).map((e) => e.path)).toEqual(['usr/local/bin/hello-go']);

      // Size: the image is the binary plus at most 3 MiB.
      const binary = join(tmp('agc-bin-'), 'hello-go');
      docker(['cp', `${cid}:/usr/local/bin/hello-go`, binary]);
      const binarySize = statSync(binary).size;
      const imageSize = Number(docker(['image', 'inspect', '-f', '{{.Size}}', tag]).trim());
      expect(imageSize).toBeLessThanOrEqual(binarySize + 3 * 1024 * 1024);
      expect(binarySize).toBeGreaterThan(1024 * 1024);

      // SIGTERM: readiness turns 503 at once, then the server drains and exits 0.
      docker(['kill', '--signal', 'TERM', cid]);
      expect(await waitForStatus(`http://${hostPort}/readyz`, 503, 4000)).toBe(503);
      expect(docker(['wait', cid]).trim()).toBe('0');
    } finally {
      dockerStatus(['rm', '-f', cid]);
      dockerStatus(['rmi', '-f', tag]);
    }
  });

  test('reproducible: two clean builds through the engine\'s own API push one digest', async () => {
    const { contextDir } = synthImageStack();
    const tarball = join(tmp('agc-ctx-'), 'context.tar');
    execFileSync('tar', ['--sort=name', '-C', contextDir, '-cf', tarball, '.']);
    const digests: string[] = [];
    for (const run of [1, 2]) {
      const tag = `${REGISTRY}/e2e/hello-go:repro-${run}`;
      // libpod's build takes the reproducible timestamp the Docker API has no field for.
      const query = new URLSearchParams({ t: tag, timestamp: '0', layers: 'false', nocache: 'true', networkmode: 'none', outputformat: 'application/vnd.oci.image.manifest.v1+json' });
      const socket = engineUp().dockerHost.replace(/^unix:\/\//, '');
      const out = execFileSync('curl', ['-sS', '--fail-with-body', '--unix-socket', socket, '-X', 'POST', '-H', 'Content-Type: application/x-tar', '--data-binary', `@${tarball}`, `http://d/v4.3.1/libpod/build?${query}`], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(out).toContain('Successfully tagged');
      docker(['push', tag]);
      digests.push(await registryDigest('e2e/hello-go', `repro-${run}`));
      docker(['rmi', '-f', tag]);
    }
    expect(digests[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digests[1]).toBe(digests[0]);
  });

  test('through the Docker-compatible API (what the docker provider uses) layers are identical; only podman\'s per-build config fields differ', async () => {
    const { contextDir } = synthImageStack();
    const configs: Array<Record<string, unknown>> = [];
    for (const run of [1, 2]) {
      const tag = `${REGISTRY}/e2e/hello-go:compat-${run}`;
      build(tag, contextDir, '--no-cache', '--network', 'none');
      docker(['push', tag]);
      configs.push(await registryConfig('e2e/hello-go', `compat-${run}`));
      docker(['rmi', '-f', tag]);
    }
    expect((configs[0].rootfs as { diff_ids: string[] }).diff_ids).toEqual((configs[1].rootfs as { diff_ids: string[] }).diff_ids);
    // Evidence for BENCHMARKS.md/README: podman's compat build stamps the build time, a random
    // build-container id and hostname into a Docker-format config, and the Docker API has no field to stop it.
    const differing = diffPaths(configs[0], configs[1]);
    const allowed = /^(created|container|container_config\.Hostname|config\.Hostname|history\.\d+\.created|history\.\d+\.comment|parent)$/;
    expect(differing.filter((p) => !allowed.test(p))).toEqual([]);
  });

  test('a source-only change rebuilds without touching the module layer (vendor mode)', () => {
    const moduleDir = copyHelloGo();
    const first = synthImageStack(moduleDir);
    const tagA = `${REGISTRY}/e2e/hello-go:src-a`;
    build(tagA, first.contextDir, '--network', 'none');
    changeSource(moduleDir);
    const second = synthImageStack(moduleDir);
    expect(second.stack.hello.contextHash).not.toBe(first.stack.hello.contextHash);
    const tagB = `${REGISTRY}/e2e/hello-go:src-b`;
    const log = build(tagB, second.contextDir, '--network', 'none');
    try {
      expect(stepCached(log, 'COPY ["go.mod","go.sum","./"]')).toBe(true);
      expect(stepCached(log, 'COPY ["vendor/", "vendor/"]')).toBe(true);
      expect(stepCached(log, 'COPY [".", "./"]')).toBe(false);
      expect(stepCached(log, 'go build -v')).toBe(false);
      // Go's build cache (the engine's cache mount) survived the rebuild: go build -v names
      // only what it compiled, which is the changed main package and nothing of x/text.
      const step = log.slice(log.indexOf('go build -v'));
      const compiled = step.slice(step.indexOf('\n') + 1, step.search(/\nSTEP \d+\/\d+: /)).split('\n').filter((l) => /^[\w.-]+(\/[\w.-]+)*$/.test(l) && !/^[0-9a-f]{12,64}$/.test(l));
      expect(compiled).toEqual(['github.com/airgap-go-constructs/examples/hello-go']);
    } finally {
      dockerStatus(['rmi', '-f', tagA, tagB]);
    }
  });

  test('proxy mode: modules come from the offline proxy once; a source-only change fetches nothing', async () => {
    const info = engineUp();
    const cache = execFileSync('bash', ['scripts/go-modcache.sh'], { encoding: 'utf8' }).trim();
    const proxy = await serveDirectory(join(cache, 'cache', 'download'));
    const moduleDir = copyHelloGo(false);
    const synth = () => {
      const app = new App({ outdir: tmp('agc-proxy-') });
      const stack = new AirgapStack(app, 'images');
      new DockerProvider(stack, 'docker', {});
      const image = new GoImage(stack, 'hello', {
        moduleDir,
        registry: REGISTRY,
        repository: 'e2e/hello-go-proxy',
        builder: BaseImage.golang({ digest: info.builderDigest }),
        runtime: BaseImage.distrolessStatic({ digest: info.runtimeDigest }),
        mirror: RegistryMirror.of({ 'docker.io/library': `${REGISTRY}/library`, 'gcr.io/distroless': `${REGISTRY}/distroless` }),
        moduleSource: ModuleSource.proxy(proxy.url),
      });
      app.synth();
      return join(app.outdir, 'stacks', 'images', image.contextPath);
    };
    const tagA = `${REGISTRY}/e2e/hello-go-proxy:a`;
    const tagB = `${REGISTRY}/e2e/hello-go-proxy:b`;
    try {
      // Async: the proxy answers from this process's event loop.
      const logA = await dockerAsync(['build', '--no-cache', '--network', 'host', '-t', tagA, synth()]);
      expect(proxy.requests).toEqual(expect.arrayContaining(['/golang.org/x/text/@v/v0.43.0.zip']));
      expect(logA).toContain('golang.org/x/text');
      const fetched = proxy.requests.length;

      changeSource(moduleDir);
      const logB = await dockerAsync(['build', '--network', 'host', '-t', tagB, synth()]);
      expect(stepCached(logB, 'RUN ["go", "mod", "download", "-x"]')).toBe(true);
      expect(stepCached(logB, 'COPY [".", "./"]')).toBe(false);
      expect(proxy.requests.length).toBe(fetched);
    } finally {
      await proxy.close();
      dockerStatus(['rmi', '-f', tagA, tagB]);
    }
  });
});
