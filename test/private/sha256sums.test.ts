import { readFileSync } from 'fs';
import { join } from 'path';
import { parseSha256Sums } from '../../lib/private/sha256sums';

interface GrammarCase {
  readonly name: string;
  readonly text: string;
  readonly ok: boolean;
  readonly paths?: string[];
}

// The same table kit/internal/sums and mirror/internal/verify run in Go.
const table = JSON.parse(readFileSync(join(__dirname, '..', '..', 'testdata', 'sha256sums-grammar.json'), 'utf8')) as { cases: GrammarCase[] };
const expand = (s: string) =>
  s.replace(/A {2}|A \*|A |B {2}/g, (m) => ({ 'A  ': `${'a'.repeat(64)}  `, 'A *': `${'a'.repeat(64)} *`, 'A ': `${'a'.repeat(64)} `, 'B  ': `${'b'.repeat(64)}  ` })[m] as string);

describe('one SHA256SUMS grammar, shared with the Go verifiers', () => {
  test('the table is there', () => {
    expect(table.cases.length).toBeGreaterThanOrEqual(20);
  });
  test.each(table.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const parsed = parseSha256Sums(expand(c.text));
    expect(parsed.ok).toBe(c.ok);
    if (parsed.ok) expect(parsed.entries.map((e) => e.path)).toEqual(c.paths);
  });
});
