/** OpenTofu and the providers from the project's filesystem mirror, built by scripts/toolchain.sh. */
import { execFileSync, spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';
import { ROOT } from './engine';

/** Where the toolchain is and which versions it holds. */
export interface Toolchain {
  readonly tofu: string;
  readonly mirror: string;
  readonly cliConfig: string;
  readonly versions: { readonly kubernetes: string; readonly docker: string; readonly tofu: string };
  /** Binaries of the local control plane (scripts/kube/up.sh reads these variables). */
  readonly kube: { readonly AGC_KUBE_APISERVER: string; readonly AGC_KUBE_CONTROLLER_MANAGER: string; readonly AGC_ETCD: string; readonly AGC_KUBECTL: string };
}

let cached: Toolchain | undefined;

/** Builds (cold) or reuses (warm) the toolchain and returns it. */
export function toolchain(): Toolchain {
  if (cached) return cached;
  const out = execFileSync('bash', [join(ROOT, 'scripts/toolchain.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 << 20 });
  const get = (name: string) => {
    const v = new RegExp(`export ${name}=["']?([^"'\\n]+)`).exec(out)?.[1];
    if (!v) throw new Error(`scripts/toolchain.sh printed no ${name}: ${out}`);
    return v;
  };
  const env = readFileSync(join(ROOT, 'tools/versions.env'), 'utf8');
  const pin = (key: string) => new RegExp(`^${key}=(\\S+)$`, 'm').exec(env)?.[1] ?? '';
  cached = {
    tofu: get('AGC_TOFU'),
    mirror: get('AGC_PROVIDER_MIRROR'),
    cliConfig: get('TF_CLI_CONFIG_FILE'),
    versions: { kubernetes: pin('KUBERNETES_PROVIDER_VERSION'), docker: pin('DOCKER_PROVIDER_VERSION'), tofu: pin('TOFU_VERSION') },
    kube: { AGC_KUBE_APISERVER: get('AGC_KUBE_APISERVER'), AGC_KUBE_CONTROLLER_MANAGER: get('AGC_KUBE_CONTROLLER_MANAGER'), AGC_ETCD: get('AGC_ETCD'), AGC_KUBECTL: get('AGC_KUBECTL') },
  };
  return cached;
}

/** True when this process may create a network namespace with only loopback. */
export function canIsolateNetwork(): boolean {
  return spawnSync('unshare', ['-n', 'true']).status === 0;
}

/** Runs tofu in `dir`, inside a loopback-only network namespace, and returns its status and output. */
export function tofu(dir: string, args: readonly string[], env: Record<string, string> = {}): { status: number; out: string } {
  const t = toolchain();
  const cmd = [t.tofu, ...args, '-no-color'];
  const [file, argv] = canIsolateNetwork() ? ['unshare', ['-n', '--', ...cmd]] : [cmd[0], cmd.slice(1)];
  const r = spawnSync(file, argv, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: t.cliConfig, ...env },
    maxBuffer: 64 << 20,
  });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

let goTools: Record<string, string> | undefined;

/** Third-party Go checkers built by scripts/go-tools.sh (cached by version): `oras`, `kube_score`. */
export function goTool(name: 'oras' | 'kube_score'): string {
  if (!goTools) {
    const out = execFileSync('bash', [join(ROOT, 'scripts/go-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    goTools = Object.fromEntries([...out.matchAll(/^export AGC_([A-Z_]+)=(.*)$/gm)].map((m) => [m[1].toLowerCase(), m[2]]));
  }
  const path = goTools[name];
  if (!path) throw new Error(`scripts/go-tools.sh printed no AGC_${name.toUpperCase()}`);
  return path;
}
