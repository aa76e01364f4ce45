import { PropProblem } from './errors';

const UNITS: Array<[string, number]> = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/**
 * A length of time, the one way every prop says it: `Duration.hours(72)`,
 * `Duration.seconds(30)`. Kept in milliseconds; each prop checks the
 * granularity it needs (whole seconds for probes, whole hours for a TTL).
 */
export class Duration {
  /** `amount` milliseconds. */
  static millis(amount: number): Duration {
    return new Duration(amount, 1, 'millis');
  }

  /** `amount` seconds. */
  static seconds(amount: number): Duration {
    return new Duration(amount, 1000, 'seconds');
  }

  /** `amount` minutes. */
  static minutes(amount: number): Duration {
    return new Duration(amount, 60_000, 'minutes');
  }

  /** `amount` hours. */
  static hours(amount: number): Duration {
    return new Duration(amount, 3_600_000, 'hours');
  }

  /** `amount` days of 24 hours. */
  static days(amount: number): Duration {
    return new Duration(amount, 86_400_000, 'days');
  }

  private readonly ms: number;

  private constructor(
    private readonly amount: number,
    factor: number,
    private readonly unit: string,
  ) {
    this.ms = amount * factor;
  }

  /** The length in milliseconds. */
  toMilliseconds(): number {
    return this.ms;
  }

  /** The length in seconds (may be fractional). */
  toSeconds(): number {
    return this.ms / 1000;
  }

  /** The length in hours (may be fractional). */
  toHours(): number {
    return this.ms / 3_600_000;
  }

  /** The shortest Go duration text (`10m`, `1h30m`, `1500ms`), as Terraform timeouts take it. */
  toGoString(): string {
    if (this.ms === 0) return '0s';
    let rest = this.ms;
    let out = '';
    for (const [suffix, size] of UNITS) {
      const n = Math.floor(rest / size);
      if (n > 0) out += `${n}${suffix}`;
      rest -= n * size;
    }
    return out;
  }

  /** How the duration was written, for messages: `Duration.hours(72)`. */
  toString(): string {
    return `Duration.${this.unit}(${this.amount})`;
  }

  /** @internal */
  _describe(): string {
    return this.toString();
  }

  /**
   * Problems with this duration as the value of `prop`: it must be finite,
   * whole in `unit` milliseconds, and within [min, max].
   * @internal
   */
  _problems(prop: string, min: Duration, max: Duration, wholeIn: 'ms' | 's' | 'h' = 'ms'): PropProblem[] {
    const unit = wholeIn === 'h' ? 3_600_000 : wholeIn === 's' ? 1000 : 1;
    const noun = wholeIn === 'h' ? 'hours' : wholeIn === 's' ? 'seconds' : 'milliseconds';
    if (!Number.isFinite(this.ms) || this.ms % unit !== 0) {
      return [{ prop, value: this, problem: `is not a whole number of ${noun}`, fix: `Give whole ${noun}, such as Duration.${noun === 'milliseconds' ? 'millis' : noun}(${Math.max(1, Math.round(min.ms / unit))}).` }];
    }
    if (this.ms < min.ms || this.ms > max.ms) {
      return [{ prop, value: this, problem: `is outside ${min.toGoString()} to ${max.toGoString()}`, fix: `Give a duration between ${min} and ${max}.` }];
    }
    return [];
  }
}
