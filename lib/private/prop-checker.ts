import { IConstruct } from 'constructs';
import { AirgapError, PropProblem } from '../core/errors';

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
