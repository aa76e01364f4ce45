/**
 * The one SHA256SUMS grammar every verifier of ours accepts (`sha256sum` text
 * output, strict), as kit/internal/sums and mirror/internal/verify parse it;
 * testdata/sha256sums-grammar.json holds all three to the same cases:
 *
 *   line = 64 lowercase hex, " ", " " or "*", path, LF   (the last line too)
 *   path = relative POSIX path: no leading "/", no "", "." or ".." segment,
 *          no control character or backslash; not "SHA256SUMS"; listed once
 */
export type SumsParse = { readonly ok: true; readonly entries: ReadonlyArray<{ readonly path: string; readonly sha256: string }> } | { readonly ok: false; readonly problem: string };

/** Why `path` cannot appear in SHA256SUMS, or undefined when it can. */
export function sumsPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'is absolute';
  if (path.includes('\\')) return 'holds a backslash';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'holds a control character (a newline, CR, tab or NUL)';
  const bad = path.split('/').find((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad !== undefined) return bad === '' ? 'has an empty segment' : `has a "${bad}" segment`;
  return undefined;
}

/** Parses SHA256SUMS text; the problem names the line and what is wrong with it. */
export function parseSha256Sums(text: string): SumsParse {
  if (text === '') return { ok: true, entries: [] };
  if (!text.endsWith('\n')) return { ok: false, problem: 'does not end in a newline (a truncated file?)' };
  const entries: Array<{ path: string; sha256: string }> = [];
  const seen = new Set<string>();
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    const clip = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);
    if (line.length < 67 || line[64] !== ' ' || (line[65] !== ' ' && line[65] !== '*')) return { ok: false, problem: `line ${n} ${clip(line)} is not "<64 hex>  <path>"` };
    const sha256 = line.slice(0, 64);
    const path = line.slice(66);
    if (!/^[0-9a-f]{64}$/.test(sha256)) return { ok: false, problem: `line ${n} has ${clip(sha256)}, which is not 64 lowercase hex digits` };
    const why = sumsPathProblem(path);
    if (why) return { ok: false, problem: `line ${n} names ${clip(path)}, which ${why}` };
    if (path === 'SHA256SUMS') return { ok: false, problem: `line ${n} lists SHA256SUMS itself` };
    if (seen.has(path)) return { ok: false, problem: `line ${n} lists ${clip(path)} a second time` };
    seen.add(path);
    entries.push({ path, sha256 });
  }
  return { ok: true, entries };
}
