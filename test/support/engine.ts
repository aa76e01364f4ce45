/**
 * The real container engine for e2e tests: podman's Docker API and the local
 * registry, brought up by the project's own scripts (idempotent, fast when warm).
 */
import { execFile, execFileSync, ExecFileSyncOptions, spawnSync } from 'child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join, normalize, resolve } from 'path';
import { App } from 'cdktf';
import { ImageStack } from '../../examples/preview-app';
import { ensureGoTool, KIT_TOOL } from '../../lib/cli/go-tool';

export const ROOT = resolve(__dirname, '../..');
export const REGISTRY = '127.0.0.1:5000';

/** Pinned references of the locally built base images. */
export interface EngineInfo {
  readonly dockerHost: string;
  readonly builder: string;
  readonly runtime: string;
  readonly builderDigest: string;
  readonly runtimeDigest: string;
  /** The runtime base as a linux/amd64 + linux/arm64 index (scripts/engine/base-index.sh). */
  readonly runtimeIndex: string;
}

let engine: EngineInfo | undefined;

/** Runs scripts/engine/up.sh once per process and returns the engine's coordinates. */
export function engineUp(): EngineInfo {
  if (engine) return engine;
  const out = execFileSync('bash', [join(ROOT, 'scripts/engine/up.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dockerHost = /DOCKER_HOST=([^\s"']+)/.exec(out)?.[1];
  if (!dockerHost) throw new Error(`scripts/engine/up.sh printed no DOCKER_HOST line: ${out}`);
  const stateDir = process.env.AGC_STATE_DIR ?? '/run/airgap-go-constructs';
  const pins = JSON.parse(readFileSync(join(stateDir, 'base-images.json'), 'utf8')) as { builder: string; runtime: string };
  const index = JSON.parse(readFileSync(join(stateDir, 'base-index.json'), 'utf8')) as { runtime: string };
  process.env.DOCKER_HOST = dockerHost;
  engine = {
    dockerHost,
    builder: pins.builder,
    runtime: pins.runtime,
    builderDigest: pins.builder.split('@')[1],
    runtimeDigest: pins.runtime.split('@')[1],
    runtimeIndex: index.runtime,
  };
  return engine;
}

/** The airgap-kit binary, built from kit/ as `npx airgap-kit` would build it. */
export function kitBinary(): string {
  return ensureGoTool(KIT_TOOL);
}

/** What {@link inEngineNetns} returns: exit status, the script's `report k v` lines, and its output. */
export interface NetnsReport {
  readonly status: number;
  readonly report: Record<string, string>;
  readonly log: string;
}

/**
 * Runs `script` with bash inside the loopback-only namespace with the engine
 * (scripts/engine/netns-run.sh). The script appends `key=value` lines to
 * $REPORT and keeps logs in $LOGS (= `logs`, outside the stack directory:
 * verify.sh refuses any file SHA256SUMS does not list).
 */
export function inEngineNetns(script: string, cwd: string, logs: string, env: Record<string, string> = {}): NetnsReport {
  const reportFile = join(logs, 'report.env');
  writeFileSync(reportFile, '');
  const r = spawnSync(join(ROOT, 'scripts/engine/netns-run.sh'), ['--', 'bash', '-euo', 'pipefail', '-c', script], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env, REPORT: reportFile, LOGS: logs },
    maxBuffer: 64 << 20,
  });
  const report: Record<string, string> = {};
  if (existsSync(reportFile)) {
    for (const line of readFileSync(reportFile, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) report[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return { status: r.status ?? -1, report, log: `${r.stdout}\n${r.stderr}` };
}

/** Runs the docker CLI against the engine and returns stdout; throws with stderr on failure. */
export function docker(args: readonly string[], options: ExecFileSyncOptions = {}): string {
  const env = { ...process.env, DOCKER_HOST: engineUp().dockerHost, DOCKER_BUILDKIT: '0' };
  const r = spawnSync('docker', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.status}: ${String(r.stderr)}\n${String(r.stdout)}`);
  return String(r.stdout);
}

/**
 * docker() without blocking the event loop, for builds that reach a server
 * running in this same process (a synchronous call would deadlock it).
 */
export function dockerAsync(args: readonly string[]): Promise<string> {
  const env = { ...process.env, DOCKER_HOST: engineUp().dockerHost, DOCKER_BUILDKIT: '0' };
  return new Promise((resolvePromise, reject) => {
    execFile('docker', [...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.join(' ')} failed: ${error.message}\n${stderr}\n${stdout}`));
      else resolvePromise(stdout);
    });
  });
}

/** Like docker(), but returns the exit status and both streams instead of throwing. */
export function dockerStatus(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const env = { ...process.env, DOCKER_HOST: engineUp().dockerHost, DOCKER_BUILDKIT: '0' };
  const r = spawnSync('docker', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Synthesizes the example image stack with the local base digests; returns the staged context. */
export function synthImageStack(moduleDir?: string): { outdir: string; contextDir: string; stack: ImageStack } {
  const info = engineUp();
  const outdir = mkdtempSync(join(tmpdir(), 'agc-img-'));
  const app = new App({ outdir });
  const stack = new ImageStack(app, 'images', { registry: REGISTRY, builderDigest: info.builderDigest, runtimeDigest: info.runtimeDigest, moduleDir });
  app.synth();
  return { outdir, stack, contextDir: join(outdir, 'stacks', 'images', stack.hello.contextPath) };
}

/** Polls `url` until it answers `status` or `timeoutMs` passes. */
export async function waitForStatus(url: string, status: number, timeoutMs = 30000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < deadline) {
    try {
      last = (await fetch(url)).status;
      if (last === status) return last;
    } catch {
      last = -1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

/** A read-only static file server on loopback, recording every request path. */
export interface StaticServer {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** Serves `dir` on 127.0.0.1 at a free port: the layout of a GOPROXY tree is just files. */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  const requests: string[] = [];
  const root = resolve(dir);
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requests.push(path);
    const file = normalize(join(root, path));
    if (!file.startsWith(root + '/') || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
