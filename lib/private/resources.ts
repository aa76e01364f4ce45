import { PropProblem } from '../core/errors';
import { Cpu, Size } from '../core/size';
import { ContainerResources } from '../kubernetes/resources';

/** Fully resolved resources: every field set. */
export interface ResolvedResources {
  readonly cpuRequest: Cpu;
  readonly cpuLimit: Cpu;
  readonly memoryRequest: Size;
  readonly memoryLimit: Size;
  readonly storageRequest: Size;
  readonly storageLimit: Size;
}

/**
 * The library's one set of container defaults: what a GoService container
 * gets, and what a PreviewEnvironment's LimitRange gives containers that set
 * nothing. The storage default covers logs; the root filesystem is read-only.
 */
export const DEFAULT_RESOURCES: ResolvedResources = {
  cpuRequest: Cpu.millicores(100),
  cpuLimit: Cpu.millicores(500),
  memoryRequest: Size.mebibytes(64),
  memoryLimit: Size.mebibytes(256),
  storageRequest: Size.mebibytes(16),
  storageLimit: Size.mebibytes(64),
};

/** `resources` over `defaults`. */
export function resolveResources(resources: ContainerResources | undefined, defaults: ResolvedResources = DEFAULT_RESOURCES): ResolvedResources {
  return {
    cpuRequest: resources?.cpu?.request ?? defaults.cpuRequest,
    cpuLimit: resources?.cpu?.limit ?? defaults.cpuLimit,
    memoryRequest: resources?.memory?.request ?? defaults.memoryRequest,
    memoryLimit: resources?.memory?.limit ?? defaults.memoryLimit,
    storageRequest: resources?.ephemeralStorage?.request ?? defaults.storageRequest,
    storageLimit: resources?.ephemeralStorage?.limit ?? defaults.storageLimit,
  };
}

/** `r` with `extra` bytes of ephemeral storage added to request and limit (the emptyDirs a container is charged for). */
export function withStorage(r: ResolvedResources, extra: number): ResolvedResources {
  if (extra === 0) return r;
  return { ...r, storageRequest: Size.bytes(r.storageRequest.toBytes() + extra), storageLimit: Size.bytes(r.storageLimit.toBytes() + extra) };
}

/** The three resources as numbers (millicores, bytes, bytes), requests then limits. */
export interface ResourceAmounts {
  readonly cpu: number;
  readonly memory: number;
  readonly storage: number;
}

/** Requests and limits of `r` as numbers. */
export function amounts(r: ResolvedResources): { requests: ResourceAmounts; limits: ResourceAmounts } {
  return {
    requests: { cpu: r.cpuRequest.toMillicores(), memory: r.memoryRequest.toBytes(), storage: r.storageRequest.toBytes() },
    limits: { cpu: r.cpuLimit.toMillicores(), memory: r.memoryLimit.toBytes(), storage: r.storageLimit.toBytes() },
  };
}

/** Checks each value and that no request exceeds its limit (the API server would reject the pod). */
export function resourceProblems(prop: string, r: ResolvedResources): PropProblem[] {
  const out: PropProblem[] = [];
  const pairs: Array<[string, Cpu | Size, Cpu | Size, number, number]> = [
    ['cpu', r.cpuRequest, r.cpuLimit, r.cpuRequest.toMillicores(), r.cpuLimit.toMillicores()],
    ['memory', r.memoryRequest, r.memoryLimit, r.memoryRequest.toBytes(), r.memoryLimit.toBytes()],
    ['ephemeralStorage', r.storageRequest, r.storageLimit, r.storageRequest.toBytes(), r.storageLimit.toBytes()],
  ];
  for (const [kind, request, limit, rv, lv] of pairs) {
    const before = out.length;
    out.push(...request._problems(`${prop}.${kind}.request`), ...limit._problems(`${prop}.${kind}.limit`));
    if (out.length === before && rv > lv) {
      out.push({
        prop: `${prop}.${kind}.request`,
        value: request,
        problem: `is greater than the limit ${limit}`,
        fix: `Lower the request or raise the limit so that request <= limit.`,
      });
    }
  }
  return out;
}

/** The provider's `resources` block. */
export function renderResources(r: ResolvedResources): { requests: { [k: string]: string }; limits: { [k: string]: string } } {
  return {
    requests: { cpu: r.cpuRequest.toQuantity(), memory: r.memoryRequest.toQuantity(), 'ephemeral-storage': r.storageRequest.toQuantity() },
    limits: { cpu: r.cpuLimit.toQuantity(), memory: r.memoryLimit.toQuantity(), 'ephemeral-storage': r.storageLimit.toQuantity() },
  };
}

/** A quantity for messages: millicores as Kubernetes writes them, bytes with a binary suffix. */
export function showAmount(kind: keyof ResourceAmounts, value: number): string {
  return kind === 'cpu' ? Cpu.millicores(value).toQuantity() : Size.bytes(value).toQuantity();
}
