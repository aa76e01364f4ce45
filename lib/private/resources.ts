import { PropProblem } from '../core/errors';
import { Cpu, Size } from '../core/size';
import { ContainerResources } from '../kubernetes/resources';

/** Fully resolved resources: every field set. */
export interface ResolvedResources {
  readonly cpuRequest: Cpu;
  readonly cpuLimit: Cpu;
  readonly memoryRequest: Size;
  readonly memoryLimit: Size;
}

/**
 * The library's one set of container defaults: what a GoService container
 * gets, and what a PreviewEnvironment's LimitRange gives containers that set
 * nothing.
 */
export const DEFAULT_RESOURCES: ResolvedResources = {
  cpuRequest: Cpu.millicores(100),
  cpuLimit: Cpu.millicores(500),
  memoryRequest: Size.mebibytes(64),
  memoryLimit: Size.mebibytes(256),
};

/** `resources` over `defaults`. */
export function resolveResources(resources: ContainerResources | undefined, defaults: ResolvedResources = DEFAULT_RESOURCES): ResolvedResources {
  return {
    cpuRequest: resources?.cpu?.request ?? defaults.cpuRequest,
    cpuLimit: resources?.cpu?.limit ?? defaults.cpuLimit,
    memoryRequest: resources?.memory?.request ?? defaults.memoryRequest,
    memoryLimit: resources?.memory?.limit ?? defaults.memoryLimit,
  };
}

/** Checks each value and that no request exceeds its limit (the API server would reject the pod). */
export function resourceProblems(prop: string, r: ResolvedResources, names = { cpu: 'cpu', memory: 'memory', request: 'request', limit: 'limit' }): PropProblem[] {
  const out: PropProblem[] = [];
  const pairs: Array<[string, Cpu | Size, Cpu | Size, number, number]> = [
    [names.cpu, r.cpuRequest, r.cpuLimit, r.cpuRequest.toMillicores(), r.cpuLimit.toMillicores()],
    [names.memory, r.memoryRequest, r.memoryLimit, r.memoryRequest.toBytes(), r.memoryLimit.toBytes()],
  ];
  for (const [kind, request, limit, rv, lv] of pairs) {
    const before = out.length;
    out.push(...request._problems(`${prop}.${kind}.${names.request}`), ...limit._problems(`${prop}.${kind}.${names.limit}`));
    if (out.length === before && rv > lv) {
      out.push({
        prop: `${prop}.${kind}.${names.request}`,
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
    requests: { cpu: r.cpuRequest.toQuantity(), memory: r.memoryRequest.toQuantity() },
    limits: { cpu: r.cpuLimit.toQuantity(), memory: r.memoryLimit.toQuantity() },
  };
}
