import { spawnSync } from 'child_process';
import { LoopbackNetns, NetnsResult } from './netns';
import { toolchain } from './toolchain';

/** A Kubernetes object as kubectl prints it; only the fields the e2e assertions read are typed. */
export interface KubeObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly ownerReferences?: ReadonlyArray<{ kind: string }> };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
  readonly reason?: string;
  readonly message?: string;
  readonly type?: string;
}

/** kubectl of the API server's own release (built by the toolchain), run inside `ns()`. */
export function kubectlIn(ns: () => LoopbackNetns) {
  const kubectl = (args: readonly string[], input?: string): NetnsResult => ns().exec(toolchain().kube.AGC_KUBECTL, args, { input });
  const getJson = <T = KubeObject>(args: readonly string[]): T => {
    const r = kubectl([...args, '-o', 'json']);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const list = (args: readonly string[]): KubeObject[] => getJson<{ items: KubeObject[] }>(args).items;
  return { kubectl, getJson, list };
}

/** Polls `probe` every 500 ms until it returns a value, for at most `seconds`. */
export function waitFor<T>(what: string, seconds: number, probe: () => T | undefined): T {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    spawnSync('sleep', ['0.5']);
  }
}
