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

const AIRGAP_ERROR = Symbol.for('airgap-go-constructs.AirgapError');

/**
 * The library's only error class. Every message names the construct path, the
 * prop, the value given, what is allowed and how to fix it.
 *
 * It is an `Error` at run time (`instanceof Error`, a stack trace), but check
 * for it with {@link AirgapError.isAirgapError}: that works across two copies
 * of this package and in every jsii language.
 */
export class AirgapError {
  /** True when `x` is an AirgapError, from any copy of this package. */
  static isAirgapError(x: unknown): boolean {
    return x !== null && typeof x === 'object' && AIRGAP_ERROR in x;
  }

  /** The whole message: one line per problem. */
  public readonly message: string;
  /** Always `AirgapError`. */
  public readonly name: string = 'AirgapError';
  /** Where it was thrown. */
  public readonly stack?: string;
  /** Construct path where the problem was found. */
  public readonly constructPath: string;
  /** Each prop problem, in the order found. */
  public readonly problems: PropProblem[];

  constructor(constructPath: string, constructKind: string, problems: PropProblem[]) {
    this.message = problems.map((p) => formatProblem(constructPath, constructKind, p)).join('\n');
    this.constructPath = constructPath;
    this.problems = [...problems];
    Object.defineProperty(this, AIRGAP_ERROR, { value: true });
    // `stack` is set by V8, as on any Error.
    Error.captureStackTrace(this, AirgapError);
  }

  /** `AirgapError: <message>`, as for any Error. */
  public toString(): string {
    return `${this.name}: ${this.message}`;
  }
}
// jsii types cannot extend Error, but thrown values should still be Errors
// (test runners, loggers and `catch (e: unknown)` code look for one).
Object.setPrototypeOf(AirgapError.prototype, Error.prototype);

/** Renders a value for a message without losing what made it bad (quotes, unicode, sign). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'object' && typeof (value as { _describe?: unknown })._describe === 'function') {
    return (value as { _describe(): string })._describe();
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
