/**
 * A named network namespace with only loopback, for e2e tests that run many
 * steps (each its own jest assertion) against services that live inside it:
 * the registry and podman (scripts/engine/netns-services.sh) and the
 * Kubernetes control plane (scripts/kube/up.sh). Nothing started in it can
 * reach anything but 127.0.0.1, so a step that passes needs no network.
 */
import { spawn, spawnSync } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { join } from 'path';
import { ROOT } from './engine';

/** Result of a command run in the namespace. */
export interface NetnsResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Parses `export NAME=value` lines (as the project's scripts print them). */
export function parseExports(out: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of out.matchAll(/^export ([A-Z_][A-Z0-9_]*)=(.*)$/gm)) {
    // %q of a plain path is the path itself; quotes only when it needs them.
    vars[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  return vars;
}

/** True when this process may create named network namespaces. */
export function canCreateNetns(): boolean {
  return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
}

/** A loopback-only network namespace and the environment of the services started in it. */
export class LoopbackNetns {
  /** Creates the namespace and brings loopback up. */
  public static create(prefix: string): LoopbackNetns {
    const name = `agc-${prefix}-${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`ip netns add ${name}: ${add.stderr}`);
    const ns = new LoopbackNetns(name);
    ns.run('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Variables every command in the namespace gets (DOCKER_HOST, KUBECONFIG, ...). */
  public readonly env: Record<string, string> = {};
  /** Scratch directory for the services' state and logs. */
  public readonly dir = mkdtempSync('/tmp/agc-netns-');
  private readonly stops: Array<() => void> = [];

  private constructor(public readonly name: string) {}

  /**
   * Runs a command in the namespace; never throws. It enters the network
   * namespace only: `ip netns exec` would also mount a fresh /sys, which hides
   * the cgroup hierarchy, and then runc cannot create a container there
   * ("no cgroup mount found in mountinfo"): every build's RUN step fails.
   */
  public exec(file: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): NetnsResult {
    const r = spawnSync('nsenter', [`--net=/run/netns/${this.name}`, '--', file, ...args], {
      cwd: options.cwd,
      input: options.input,
      encoding: 'utf8',
      env: { ...process.env, ...this.env, ...options.env },
      maxBuffer: 64 << 20,
    });
    return { status: r.status ?? -1, stdout: String(r.stdout), stderr: `${String(r.stderr)}${r.error ? String(r.error) : ''}` };
  }

  /** exec() without blocking, for commands that must overlap; resolves with the time it ended. */
  public execAsync(file: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<NetnsResult & { endedAt: number }> {
    return new Promise((resolvePromise) => {
      const child = spawn('nsenter', [`--net=/run/netns/${this.name}`, '--', file, ...args], { cwd: options.cwd, env: { ...process.env, ...this.env, ...options.env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolvePromise({ status: code ?? -1, stdout, stderr, endedAt: Date.now() }));
    });
  }

  /** Like exec(), but throws with the command's output unless it exits 0; returns stdout. */
  public run(file: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): string {
    const r = this.exec(file, args, options);
    if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status} in netns ${this.name}:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  /**
   * Starts the registry and a podman service in the namespace (DOCKER_HOST).
   * `isolated` gives them storage of their own, empty at start, as on the far
   * side of a gap; `registry` moves the registry, `podman: false` leaves podman out.
   */
  public startEngine(options: { isolated?: boolean; registry?: string; storage?: string; podman?: boolean; name?: string } = {}): Record<string, string> {
    const dir = join(this.dir, options.name ?? 'engine');
    const script = join(ROOT, 'scripts/engine/netns-services.sh');
    const env: Record<string, string> = {};
    if (options.isolated) env.AGC_NETNS_ISOLATED = '1';
    if (options.registry) env.AGC_NETNS_REGISTRY_ADDR = options.registry;
    if (options.storage) env.AGC_NETNS_REGISTRY_STORAGE = options.storage;
    if (options.podman === false) env.AGC_NETNS_PODMAN = '0';
    this.stops.push(() => this.exec(script, ['stop', dir]));
    const exported = parseExports(this.run(script, ['start', dir], { env }));
    if (exported.DOCKER_HOST) this.env.DOCKER_HOST = exported.DOCKER_HOST;
    return { ...exported, dir };
  }

  /** Starts the local Kubernetes control plane in the namespace (KUBECONFIG, KUBE_CONFIG_PATH). */
  public startKube(toolchainEnv: Record<string, string>): void {
    const dir = join(this.dir, 'kube');
    this.stops.push(() => this.exec(join(ROOT, 'scripts/kube/down.sh'), [dir]));
    Object.assign(this.env, parseExports(this.run(join(ROOT, 'scripts/kube/up.sh'), [dir], { env: toolchainEnv })));
  }

  /** Stops what was started (last first), kills anything left and deletes the namespace. */
  public destroy(): void {
    for (const stop of this.stops.reverse()) stop();
    const pids = spawnSync('ip', ['netns', 'pids', this.name], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
    if (pids.length > 0) spawnSync('kill', ['-KILL', ...pids]);
    spawnSync('ip', ['netns', 'del', this.name]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
