import { createHash } from 'crypto';
import { AirgapError } from '../core/errors';

/** Length of the hash suffix, in hex digits (40 bits). */
const NAME_HASH_LENGTH = 10;

const HASH_TAIL = new RegExp(`(^|-)[0-9a-f]{${NAME_HASH_LENGTH}}$`);

/** Options for {@link dnsLabelFromBranch}. */
export interface DnsLabelOptions {
  /**
   * Text put before the slug. It must itself be DNS-safe and is not hashed away.
   * @default ''
   */
  readonly prefix?: string;
  /**
   * Longest result, prefix included.
   * @default 63
   */
  readonly maxLength?: number;
}

/** DNS-safe names derived from branch names, as PreviewEnvironment makes them. */
export class PreviewName {
  /** Length of the hash suffix of a hashed name. */
  static readonly HASH_LENGTH = NAME_HASH_LENGTH;

  /**
   * The stable short hash of a branch name that makes mangled names unique.
   * It is taken over the exact original bytes, so branches differing only in
   * case, punctuation or length still differ.
   */
  static hash(branch: string): string {
    return createHash('sha256').update(branch, 'utf8').digest('hex').slice(0, NAME_HASH_LENGTH);
  }

  /**
   * Turns any branch name into a DNS-1123 label.
   *
   * Lowercases, folds accents (NFKD), maps anything outside `[a-z0-9-]` to `-`,
   * collapses runs of `-` and trims them from both ends. When that changed
   * anything, or the result had to be cut, `-<hash>` of the original is appended,
   * so two different branches never share a name: a kept name is the branch
   * itself and never ends like a hash; every changed one ends in the hash of its
   * original, so two changed names collide only if 40-bit hashes do.
   */
  static dnsLabel(branch: string, options: DnsLabelOptions = {}): string {
    const prefix = options.prefix ?? '';
    const maxLength = options.maxLength ?? 63;
    const budget = maxLength - prefix.length;
    if (budget < NAME_HASH_LENGTH + 1) {
      throw new AirgapError('PreviewName', 'PreviewName', [
        { prop: 'prefix', value: prefix, problem: `leaves ${budget} of ${maxLength} characters, and at least ${NAME_HASH_LENGTH + 1} are needed`, fix: 'Use a shorter prefix or a larger maxLength.' },
      ]);
    }

    const slug = branch
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-+|-+$/g, '');

    // A kept name never ends like a hash suffix, so kept and hashed names are disjoint sets.
    const looksHashed = HASH_TAIL.test(slug);
    if (slug === branch && slug.length > 0 && slug.length <= budget && !looksHashed) {
      return prefix + slug;
    }
    const hash = PreviewName.hash(branch);
    if (slug.length === 0) return prefix + hash;
    const room = budget - hash.length - 1;
    const head = slug.slice(0, room).replace(/-+$/, '');
    return head.length > 0 ? `${prefix}${head}-${hash}` : prefix + hash;
  }
}
