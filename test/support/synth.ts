import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App, Testing } from 'cdktf';
import { AirgapStack } from '../../lib';

/** A fresh stack with the kubernetes provider, in an app that writes to a temp dir. */
export function newStack(id = 'test'): { app: App; stack: AirgapStack } {
  const app = Testing.app();
  const stack = new AirgapStack(app, id);
  new KubernetesProvider(stack, 'kubernetes', {});
  return { app, stack };
}

/** Synthesized stack as a parsed object. */
export interface SynthJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly terraform?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Parses Testing.synth output. */
export function synthJson(stack: AirgapStack): SynthJson {
  return JSON.parse(Testing.synth(stack)) as SynthJson;
}

/** All resources of one type, as [logical id, body] pairs. */
export function resourcesOf(json: SynthJson, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(json.resource?.[type] ?? {});
}

/** The only resource of a type; fails the test if there is not exactly one. */
export function onlyResource(json: SynthJson, type: string): Record<string, unknown> {
  const all = resourcesOf(json, type);
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0][1];
}

/** Runs fn and returns the message of the error it throws; fails if it does not throw. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, but none was thrown');
}

/** Reads a dotted path (`spec.template.0.name`) out of parsed JSON; undefined when absent. */
export function dig(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The resource whose metadata.name is `name`. */
export function resourceNamed(json: SynthJson, type: string, name: string): Record<string, unknown> {
  const found = resourcesOf(json, type).filter(([, body]) => dig(body, 'metadata.name') === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0][1];
}

/** A container block of cdk.tf.json. */
export type Container = Record<string, unknown>;

/** Every container of a pod spec, init containers included. */
export function containersOf(spec: Record<string, unknown>): Container[] {
  return [...((spec.container as Container[]) ?? []), ...((spec.init_container as Container[]) ?? [])];
}
