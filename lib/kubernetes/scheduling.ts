import { PropProblem } from '../core/errors';
import { checkInteger, checkLabelKey, checkLabelValue, checkDns1123Subdomain, labelMapProblems } from '../private/validation';

/** What a toleration does with the taint's value. */
export enum TolerationOperator {
  /** The taint's value must equal the toleration's. */
  EQUAL = 'Equal',
  /** Any value of the taint's key (or, without a key, every taint). */
  EXISTS = 'Exists',
}

/** A taint effect. */
export enum TaintEffect {
  /** New pods are not scheduled on the node. */
  NO_SCHEDULE = 'NoSchedule',
  /** The scheduler avoids the node. */
  PREFER_NO_SCHEDULE = 'PreferNoSchedule',
  /** Running pods are evicted from the node. */
  NO_EXECUTE = 'NoExecute',
}

/** A toleration of a node taint. */
export interface Toleration {
  /**
   * Taint key; empty with EXISTS tolerates every taint.
   * @default - every key (needs EXISTS)
   */
  readonly key?: string;
  /**
   * How the value is matched.
   * @default TolerationOperator.EQUAL
   */
  readonly operator?: TolerationOperator;
  /**
   * Taint value, for EQUAL.
   * @default - empty
   */
  readonly value?: string;
  /**
   * Effect tolerated.
   * @default - every effect
   */
  readonly effect?: TaintEffect;
  /**
   * For NO_EXECUTE: how long the pod stays after the taint appears, in seconds.
   * @default - forever
   */
  readonly tolerationSeconds?: number;
}

/** How a node label is matched. */
export enum NodeSelectorOperator {
  /** The label's value is one of `values`. */
  IN = 'In',
  /** The label's value is none of `values`, or the label is absent. */
  NOT_IN = 'NotIn',
  /** The label is present. */
  EXISTS = 'Exists',
  /** The label is absent. */
  DOES_NOT_EXIST = 'DoesNotExist',
}

/** One node-label requirement. */
export interface NodeLabelRequirement {
  /** Node label key, such as `topology.kubernetes.io/zone`. */
  readonly key: string;
  /** How it is matched. */
  readonly operator: NodeSelectorOperator;
  /**
   * Values, for IN and NOT_IN.
   * @default - none
   */
  readonly values?: string[];
}

/** A weighted node preference. */
export interface PreferredNodeLabels {
  /** 1 to 100; the scheduler adds it to nodes that match. */
  readonly weight: number;
  /** Requirements a node must all meet to get the weight. */
  readonly requirements: NodeLabelRequirement[];
}

/** Options for {@link ReplicaSpread.topologySpread}. */
export interface TopologySpreadOptions {
  /**
   * Node label whose values are the domains to spread over.
   * @default 'kubernetes.io/hostname'
   */
  readonly topologyKey?: string;
  /**
   * Largest allowed difference of replica counts between two domains.
   * @default 1
   */
  readonly maxSkew?: number;
  /**
   * Refuse to schedule a replica that would break `maxSkew`, rather than only prefer not to.
   * @default false
   */
  readonly required?: boolean;
}

/**
 * How a workload's replicas are spread over nodes, so one node's loss takes
 * down one replica, not all.
 */
export class ReplicaSpread {
  /** Soft pod anti-affinity on `kubernetes.io/hostname`: replicas prefer different nodes, and still schedule when there are too few. */
  static preferDifferentNodes(): ReplicaSpread {
    return new ReplicaSpread('anti-affinity', {});
  }

  /** A topology spread constraint over the domains of a node label. */
  static topologySpread(options: TopologySpreadOptions = {}): ReplicaSpread {
    return new ReplicaSpread('spread', options);
  }

  /** No spreading: replicas may all land on one node. */
  static none(): ReplicaSpread {
    return new ReplicaSpread('none', {});
  }

  private constructor(
    private readonly kind: 'anti-affinity' | 'spread' | 'none',
    private readonly options: TopologySpreadOptions,
  ) {}

  /** @internal */
  _problems(prop: string): PropProblem[] {
    const out: PropProblem[] = [];
    if (this.kind !== 'spread') return out;
    const key = this.options.topologyKey;
    if (key !== undefined) {
      const p = checkLabelKey(key);
      if (p) out.push({ prop: `${prop}.topologyKey`, value: key, problem: p, fix: 'Use a node label such as "topology.kubernetes.io/zone".' });
    }
    const skew = this.options.maxSkew;
    if (skew !== undefined) {
      const p = checkInteger(skew, 1, 1000);
      if (p) out.push({ prop: `${prop}.maxSkew`, value: skew, problem: p, fix: 'Use a whole number such as 1.' });
    }
    return out;
  }

  /** The pod spec fields, for pods labelled `selector`. @internal */
  _render(selector: { [key: string]: string }) {
    if (this.kind === 'anti-affinity') {
      return {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: [{ matchLabels: { ...selector } }] } },
          ],
        },
      };
    }
    if (this.kind === 'spread') {
      return {
        topologySpreadConstraint: [
          {
            maxSkew: this.options.maxSkew ?? 1,
            topologyKey: this.options.topologyKey ?? 'kubernetes.io/hostname',
            whenUnsatisfiable: this.options.required ? 'DoNotSchedule' : 'ScheduleAnyway',
            labelSelector: [{ matchLabels: { ...selector } }],
          },
        ],
      };
    }
    return {};
  }
}

/** Where a workload's pods may and should run. */
export interface SchedulingOptions {
  /**
   * Node labels a node must carry.
   * @default - any node
   */
  readonly nodeSelector?: { [key: string]: string };
  /**
   * Taints the pods tolerate.
   * @default - none
   */
  readonly tolerations?: Toleration[];
  /**
   * Node-label requirements a node must meet (all of them).
   * @default - none
   */
  readonly requiredNodeLabels?: NodeLabelRequirement[];
  /**
   * Weighted node preferences.
   * @default - none
   */
  readonly preferredNodeLabels?: PreferredNodeLabels[];
  /**
   * PriorityClass of the pods.
   * @default - the cluster's default priority
   */
  readonly priorityClassName?: string;
  /**
   * How replicas spread over nodes.
   * @default ReplicaSpread.preferDifferentNodes()
   */
  readonly spread?: ReplicaSpread;
}

function requirementProblems(prop: string, reqs: readonly NodeLabelRequirement[]): PropProblem[] {
  const out: PropProblem[] = [];
  reqs.forEach((r, i) => {
    const at = `${prop}[${i}]`;
    const k = checkLabelKey(r.key);
    if (k) out.push({ prop: `${at}.key`, value: r.key, problem: k, fix: 'Use a node label key such as "topology.kubernetes.io/zone".' });
    const ops = Object.values(NodeSelectorOperator) as string[];
    if (!ops.includes(r.operator)) {
      out.push({ prop: `${at}.operator`, value: r.operator, problem: `is not one of ${ops.join(', ')}`, fix: 'Use NodeSelectorOperator.IN, for example.' });
    }
    const values = r.values ?? [];
    const needsValues = r.operator === NodeSelectorOperator.IN || r.operator === NodeSelectorOperator.NOT_IN;
    if (needsValues && values.length === 0) out.push({ prop: `${at}.values`, value: values, problem: `is empty, and ${r.operator} needs values`, fix: 'List the label values to match.' });
    if (!needsValues && values.length > 0) out.push({ prop: `${at}.values`, value: values, problem: `is set, and ${r.operator} takes none`, fix: 'Leave values out.' });
    for (const v of values) {
      const p = checkLabelValue(v);
      if (p) out.push({ prop: `${at}.values`, value: v, problem: p, fix: 'Use label values such as "zone-a".' });
    }
  });
  return out;
}

/** Problems with scheduling options, at `prop`. */
export function schedulingProblems(prop: string, s: SchedulingOptions | undefined): PropProblem[] {
  if (!s) return [];
  const out: PropProblem[] = [];
  for (const p of labelMapProblems(`${prop}.nodeSelector`, s.nodeSelector ?? {})) out.push({ ...p, fix: 'Use node labels such as "kubernetes.io/arch": "amd64".' });
  (s.tolerations ?? []).forEach((t, i) => {
    const at = `${prop}.tolerations[${i}]`;
    const op = t.operator ?? TolerationOperator.EQUAL;
    if (t.key !== undefined) {
      const p = checkLabelKey(t.key);
      if (p) out.push({ prop: `${at}.key`, value: t.key, problem: p, fix: 'Use the taint key, such as "dedicated".' });
    } else if (op !== TolerationOperator.EXISTS) {
      out.push({ prop: `${at}.key`, value: t.key, problem: 'is missing, which only operator EXISTS allows', fix: 'Name the taint key, or use TolerationOperator.EXISTS to tolerate every taint.' });
    }
    if (op === TolerationOperator.EXISTS && t.value !== undefined) {
      out.push({ prop: `${at}.value`, value: t.value, problem: 'is set, and operator EXISTS takes no value', fix: 'Leave value out, or use TolerationOperator.EQUAL.' });
    }
    if (t.tolerationSeconds !== undefined) {
      const p = checkInteger(t.tolerationSeconds, 0, 31536000);
      if (p) out.push({ prop: `${at}.tolerationSeconds`, value: t.tolerationSeconds, problem: p, fix: 'Use a whole number of seconds.' });
      else if (t.effect !== TaintEffect.NO_EXECUTE) out.push({ prop: `${at}.tolerationSeconds`, value: t.tolerationSeconds, problem: 'is set, and only effect NO_EXECUTE uses it', fix: 'Set effect: TaintEffect.NO_EXECUTE, or leave tolerationSeconds out.' });
    }
  });
  out.push(...requirementProblems(`${prop}.requiredNodeLabels`, s.requiredNodeLabels ?? []));
  (s.preferredNodeLabels ?? []).forEach((p, i) => {
    const w = checkInteger(p.weight, 1, 100);
    if (w) out.push({ prop: `${prop}.preferredNodeLabels[${i}].weight`, value: p.weight, problem: w, fix: 'Use a weight from 1 to 100.' });
    out.push(...requirementProblems(`${prop}.preferredNodeLabels[${i}].requirements`, p.requirements ?? []));
  });
  if (s.priorityClassName !== undefined) {
    const p = checkDns1123Subdomain(s.priorityClassName);
    if (p) out.push({ prop: `${prop}.priorityClassName`, value: s.priorityClassName, problem: p, fix: 'Use the name of a PriorityClass, such as "preview-low".' });
  }
  if (s.spread) out.push(...s.spread._problems(`${prop}.spread`));
  return out;
}

function renderRequirements(reqs: readonly NodeLabelRequirement[]) {
  return reqs.map((r) => ({ key: r.key, operator: r.operator, values: r.values && r.values.length > 0 ? [...r.values] : undefined }));
}

/** The pod spec fields of `s`, for pods labelled `selector`. */
export function renderScheduling(s: SchedulingOptions | undefined, selector: { [key: string]: string }) {
  const spread = (s?.spread ?? ReplicaSpread.preferDifferentNodes())._render(selector);
  const required = s?.requiredNodeLabels ?? [];
  const preferred = s?.preferredNodeLabels ?? [];
  const nodeAffinity =
    required.length > 0 || preferred.length > 0
      ? {
          requiredDuringSchedulingIgnoredDuringExecution: required.length > 0 ? { nodeSelectorTerm: [{ matchExpressions: renderRequirements(required) }] } : undefined,
          preferredDuringSchedulingIgnoredDuringExecution:
            preferred.length > 0 ? preferred.map((p) => ({ weight: p.weight, preference: { matchExpressions: renderRequirements(p.requirements) } })) : undefined,
        }
      : undefined;
  const anti = 'podAntiAffinity' in spread ? spread.podAntiAffinity : undefined;
  return {
    nodeSelector: s?.nodeSelector && Object.keys(s.nodeSelector).length > 0 ? { ...s.nodeSelector } : undefined,
    toleration: s?.tolerations && s.tolerations.length > 0
      ? s.tolerations.map((t) => ({
          key: t.key,
          operator: t.operator ?? TolerationOperator.EQUAL,
          value: t.value,
          effect: t.effect,
          tolerationSeconds: t.tolerationSeconds !== undefined ? String(t.tolerationSeconds) : undefined,
        }))
      : undefined,
    priorityClassName: s?.priorityClassName,
    affinity: nodeAffinity || anti ? { nodeAffinity, podAntiAffinity: anti } : undefined,
    topologySpreadConstraint: 'topologySpreadConstraint' in spread ? spread.topologySpreadConstraint : undefined,
  };
}
