import { PreviewName } from '../../lib/kubernetes/preview-name';

const dnsLabelFromBranch = PreviewName.dnsLabel;
const branchHash = PreviewName.hash;
const NAME_HASH_LENGTH = PreviewName.HASH_LENGTH;
import { checkDns1123Label } from '../../lib/private/validation';

const ODD_BRANCHES = [
  'main',
  'feature/ABC_123',
  'feature/abc-123',
  'feature/abc_123',
  'Feature/ABC_123',
  'x'.repeat(200),
  'x'.repeat(199) + 'y',
  'a/' + 'b'.repeat(198),
  '///***!!!',
  '@@@',
  '-',
  '',
  'fix/ümlaut-straße',
  'fix/umlaut-strasse',
  '修复/登录',
  '修复/注册',
  '🚀-launch',
  'release-1.2.3',
  'release/1.2.3',
  'deadbeef12',
  'x-0123456789',
  'UPPER',
  'upper',
  '--trim--',
  'a..b',
  'dependabot/npm_and_yarn/lib/foo-1.2.3',
];

describe('dnsLabelFromBranch', () => {
  test.each(ODD_BRANCHES)('%j gives a valid DNS-1123 label of at most 63 chars', (branch) => {
    const name = dnsLabelFromBranch(branch);
    expect(checkDns1123Label(name)).toBeUndefined();
    expect(name.length).toBeLessThanOrEqual(63);
    const prefixed = dnsLabelFromBranch(branch, { prefix: 'preview-' });
    expect(checkDns1123Label(prefixed)).toBeUndefined();
    expect(prefixed.startsWith('preview-')).toBe(true);
  });

  test('different branches never share a name, with or without prefix', () => {
    for (const prefix of ['', 'preview-', 'pr']) {
      const names = ODD_BRANCHES.map((b) => dnsLabelFromBranch(b, { prefix }));
      expect(new Set(names).size).toBe(ODD_BRANCHES.length);
    }
  });

  test('valid names are kept as they are', () => {
    expect(dnsLabelFromBranch('main')).toBe('main');
    expect(dnsLabelFromBranch('release-1-2', { prefix: 'preview-' })).toBe('preview-release-1-2');
  });

  test('changed names keep a readable head and end in the hash of the original', () => {
    expect(dnsLabelFromBranch('feature/ABC_123')).toBe(`feature-abc-123-${branchHash('feature/ABC_123')}`);
    expect(dnsLabelFromBranch('fix/ümlaut-straße')).toBe(`fix-umlaut-stra-e-${branchHash('fix/ümlaut-straße')}`);
  });

  test('a branch of only symbols or only non-Latin script becomes the hash', () => {
    expect(dnsLabelFromBranch('///***!!!')).toBe(branchHash('///***!!!'));
    expect(dnsLabelFromBranch('修复/登录', { prefix: 'preview-' })).toBe(`preview-${branchHash('修复/登录')}`);
  });

  test('a long branch is cut to 63 characters including the hash', () => {
    const name = dnsLabelFromBranch('x'.repeat(200), { prefix: 'preview-' });
    expect(name).toHaveLength(63);
    expect(name.endsWith(`-${branchHash('x'.repeat(200))}`)).toBe(true);
  });

  test('a kept-looking name that already ends like a hash is hashed too, so kept and hashed names cannot meet', () => {
    expect(dnsLabelFromBranch('deadbeef12')).toBe(`deadbeef12-${branchHash('deadbeef12')}`);
    expect(dnsLabelFromBranch('x-0123456789')).toBe(`x-0123456789-${branchHash('x-0123456789')}`);
  });

  test('the result is stable', () => {
    expect(branchHash('feature/ABC_123')).toBe(branchHash('feature/ABC_123'));
    expect(branchHash('feature/ABC_123')).toHaveLength(NAME_HASH_LENGTH);
    // Pinned so that a change of algorithm, which would orphan live namespaces, fails loudly.
    expect(dnsLabelFromBranch('feature/ABC_123', { prefix: 'preview-' })).toBe('preview-feature-abc-123-163a2a1ca7');
  });

  test('a prefix too long to leave room for the hash is refused', () => {
    expect(() => dnsLabelFromBranch('main', { prefix: 'p'.repeat(60) })).toThrow(/leaves 3 of 63 characters/);
  });
});
