import { PropProblem } from './errors';

/**
 * Kubernetes resource quantities (`500m`, `1.5`, `2Gi`, `1e3`), parsed by the
 * same grammar as the API server's `resource.ParseQuantity`.
 */

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX_FACTORS: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The value of a quantity in base units (cores, bytes, counts), or undefined when
 * the text is not a quantity. Double precision is enough to compare requests
 * with limits, which is all the library needs.
 */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const mantissa = Number(m[1]);
  const suffix = m[2] ?? '';
  const factor = SUFFIX_FACTORS[suffix] ?? 10 ** Number(suffix.slice(1));
  const value = mantissa * factor;
  return Number.isFinite(value) ? value : undefined;
}

/** What a quantity measures, for the hint in an error message. */
export enum QuantityKind {
  /** CPU, in cores. */
  CPU = 'cpu',
  /** Memory or storage, in bytes. */
  MEMORY = 'memory',
  /** A plain count such as pods. */
  COUNT = 'count',
}

const HINTS: Readonly<Record<QuantityKind, string>> = {
  [QuantityKind.CPU]: 'Use a number of cores such as "0.5", "1.5" or "500m".',
  [QuantityKind.MEMORY]: 'Use bytes with a binary or decimal suffix such as "128Mi", "2Gi" or "500M" (not "2GB").',
  [QuantityKind.COUNT]: 'Use a whole number such as "10".',
};

/** The fix sentence for a bad quantity of this kind. */
export function quantityHint(kind: QuantityKind): string {
  return HINTS[kind];
}

/** Checks a non-negative quantity; returns a "which …" phrase when it is not one. */
export function checkQuantity(text: string, kind: QuantityKind): string | undefined {
  if (typeof text !== 'string') return 'is not a string';
  const value = parseQuantity(text);
  if (value === undefined) return 'is not a Kubernetes quantity';
  if (value < 0) return 'is negative; resource quantities must be zero or more';
  if (kind === QuantityKind.COUNT && !Number.isInteger(value)) return 'is not a whole number';
  if (kind === QuantityKind.MEMORY && !Number.isInteger(value)) {
    return 'is a fraction of a byte';
  }
  return undefined;
}

/**
 * Checks a request/limit pair: each must be a quantity of `kind`, and the
 * request must not exceed the limit (the API server rejects that pod).
 */
export function requestLimitProblems(
  prop: string,
  request: string | undefined,
  limit: string | undefined,
  kind: QuantityKind,
  names: { readonly request: string; readonly limit: string } = { request: 'request', limit: 'limit' },
): PropProblem[] {
  const out: PropProblem[] = [];
  for (const [key, value] of [[names.request, request], [names.limit, limit]] as const) {
    if (value === undefined) continue;
    const problem = checkQuantity(value, kind);
    if (problem) out.push({ prop: `${prop}.${key}`, value, problem, fix: quantityHint(kind) });
  }
  if (out.length === 0 && request !== undefined && limit !== undefined) {
    const r = parseQuantity(request) as number;
    const l = parseQuantity(limit) as number;
    if (r > l) {
      out.push({
        prop: `${prop}.${names.request}`,
        value: request,
        problem: `is greater than ${names.limit} "${limit}"`,
        fix: `Lower the ${names.request} or raise the ${names.limit} so that ${names.request} <= ${names.limit}.`,
      });
    }
  }
  return out;
}
