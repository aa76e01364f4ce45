import { IConstruct } from 'constructs';

/**
 * One problem with one prop: where it is, what was given, what is allowed and
 * how to fix it.
 */
export interface PropProblem {
  /** Dotted prop path, such as `resources.cpu.request`. */
  readonly prop: string;
  /** The value the user gave. */
  readonly value: unknown;
  /** What is wrong, phrased to follow "which": `is not a Kubernetes quantity`. */
  readonly problem: string;
  /** How to fix it, as a full sentence. */
  readonly fix: string;
}

/**
 * The library's only error class. Every message names the construct path, the
 * prop, the value given, what is allowed and how to fix it.
 */
export class AirgapError extends Error {
  /** Construct path where the problem was found. */
  public readonly constructPath: string;
  /** Each prop problem, in the order found. */
  public readonly problems: readonly PropProblem[];

  constructor(constructPath: string, constructKind: string, problems: readonly PropProblem[]) {
    super(problems.map((p) => formatProblem(constructPath, constructKind, p)).join('\n'));
    this.name = 'AirgapError';
    this.constructPath = constructPath;
    this.problems = problems;
  }
}

/** Renders a value for a message without losing what made it bad (quotes, unicode, sign). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function formatProblem(path: string, kind: string, p: PropProblem): string {
  return `${path} (${kind}): prop "${p.prop}" is ${describeValue(p.value)}, which ${p.problem}. ${p.fix}`;
}

/**
 * Collects prop problems for one construct and throws them together, so a user
 * sees every bad prop at once instead of fixing them one synth at a time.
 */
export class PropChecker {
  private readonly found: PropProblem[] = [];

  constructor(
    private readonly scope: IConstruct,
    private readonly kind: string,
  ) {}

  /** Records a problem when `problem` is a string; a check that passed returns undefined. */
  check(prop: string, value: unknown, problem: string | undefined, fix: string): void {
    if (problem !== undefined) this.found.push({ prop, value, problem, fix });
  }

  /** Records a problem unconditionally. */
  fail(prop: string, value: unknown, problem: string, fix: string): void {
    this.found.push({ prop, value, problem, fix });
  }

  /** Records problems found by a value object's own checks. */
  addAll(problems: readonly PropProblem[]): void {
    this.found.push(...problems);
  }

  /** True while no problem has been recorded. */
  get empty(): boolean {
    return this.found.length === 0;
  }

  /**
   * Throws an AirgapError if any problem was recorded. With `discard`, the
   * construct being built is first removed from its parent, so a caught error
   * leaves nothing half-made in the tree.
   */
  throwIfAny(options: { readonly discard?: boolean } = {}): void {
    if (this.found.length === 0) return;
    const node = this.scope.node;
    const path = node.path;
    if (options.discard) node.scope?.node.tryRemoveChild(node.id);
    throw new AirgapError(path, this.kind, this.found);
  }
}
