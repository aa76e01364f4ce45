import { PropProblem } from './errors';

const BINARY: Array<[string, number]> = [
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/**
 * An amount of memory or storage: `Size.mebibytes(64)`, `Size.gibibytes(2)`.
 * Rendered as the Kubernetes quantity with the largest whole binary suffix
 * (`64Mi`, `2Gi`), so plans show what a person would have written.
 */
export class Size {
  /** `amount` bytes. */
  static bytes(amount: number): Size {
    return new Size(amount, 1, 'bytes');
  }

  /** `amount` KiB (1024 bytes). */
  static kibibytes(amount: number): Size {
    return new Size(amount, 2 ** 10, 'kibibytes');
  }

  /** `amount` MiB. */
  static mebibytes(amount: number): Size {
    return new Size(amount, 2 ** 20, 'mebibytes');
  }

  /** `amount` GiB. */
  static gibibytes(amount: number): Size {
    return new Size(amount, 2 ** 30, 'gibibytes');
  }

  /** `amount` TiB. */
  static tebibytes(amount: number): Size {
    return new Size(amount, 2 ** 40, 'tebibytes');
  }

  private readonly total: number;

  private constructor(
    private readonly amount: number,
    factor: number,
    private readonly unit: string,
  ) {
    this.total = amount * factor;
  }

  /** The size in bytes. */
  toBytes(): number {
    return this.total;
  }

  /** The Kubernetes quantity: `64Mi`, `2Gi`, or plain bytes. */
  toQuantity(): string {
    for (const [suffix, size] of BINARY) {
      if (this.total >= size && this.total % size === 0) return `${this.total / size}${suffix}`;
    }
    return String(this.total);
  }

  /** How the size was written, for messages: `Size.mebibytes(64)`. */
  toString(): string {
    return `Size.${this.unit}(${this.amount})`;
  }

  /** @internal */
  _describe(): string {
    return this.toString();
  }

  /** @internal */
  _problems(prop: string): PropProblem[] {
    if (!Number.isFinite(this.total) || this.total < 0 || !Number.isInteger(this.total)) {
      return [{ prop, value: this, problem: 'is not a whole, non-negative number of bytes', fix: 'Give a size such as Size.mebibytes(64) or Size.gibibytes(2).' }];
    }
    return [];
  }
}

/**
 * An amount of CPU: `Cpu.millicores(100)`, `Cpu.cores(2)`. Rendered as
 * Kubernetes writes it: `100m`, `2`.
 */
export class Cpu {
  /** `amount` thousandths of a core. */
  static millicores(amount: number): Cpu {
    return new Cpu(amount, `Cpu.millicores(${amount})`);
  }

  /** `amount` cores. */
  static cores(amount: number): Cpu {
    return new Cpu(amount * 1000, `Cpu.cores(${amount})`);
  }

  private constructor(
    private readonly milli: number,
    private readonly written: string,
  ) {}

  /** The amount in millicores. */
  toMillicores(): number {
    return this.milli;
  }

  /** The Kubernetes quantity: `500m`, or whole cores as `2`. */
  toQuantity(): string {
    return this.milli % 1000 === 0 ? String(this.milli / 1000) : `${this.milli}m`;
  }

  /** How the amount was written, for messages: `Cpu.millicores(500)`. */
  toString(): string {
    return this.written;
  }

  /** @internal */
  _describe(): string {
    return this.written;
  }

  /** @internal */
  _problems(prop: string): PropProblem[] {
    if (!Number.isFinite(this.milli) || this.milli < 0 || !Number.isInteger(this.milli)) {
      return [{ prop, value: this, problem: 'is not a whole, non-negative number of millicores', fix: 'Give an amount such as Cpu.millicores(250) or Cpu.cores(1).' }];
    }
    return [];
  }
}
