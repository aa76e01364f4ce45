import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { goTool } from './toolchain';

/**
 * kube-score's critical findings we accept, by check id, each for the reason
 * the README states under "kube-score: deliberate exceptions". A finding not
 * listed here fails the e2e.
 */
export const KUBE_SCORE_DELIBERATE: Readonly<Record<string, string>> = {
  // Images are pinned by digest, which never moves, so IfNotPresent runs exactly
  // what was verified, and keeps working when the registry is down; Always would
  // make every restart depend on the registry inside the gap.
  'container-image-pull-policy': 'IfNotPresent with digest-pinned images',
};

/** One kube-score finding. */
export interface KubeScoreFinding {
  readonly grade: 'CRITICAL' | 'WARNING';
  readonly check: string;
  readonly line: string;
}

/** Scores `objects` (as the API server returns them) with kube-score; skipped and passing checks are left out. */
export function kubeScore(objects: readonly object[]): KubeScoreFinding[] {
  const dir = mkdtempSync(join(tmpdir(), 'agc-kube-score-'));
  try {
    const file = join(dir, 'objects.yaml');
    // JSON is YAML: one document per object, as kube-score reads manifests.
    writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n') + '\n');
    const r = spawnSync(goTool('kube_score'), ['score', '--output-format', 'json', file], { encoding: 'utf8' });
    if (r.status !== 0 && r.status !== 1) throw new Error(`kube-score exited ${r.status}: ${r.stderr}`);
    type Scored = { object_name: string; checks: Array<{ check: { id: string }; grade: number; skipped: boolean; comments?: Array<{ path: string; summary: string }> }> };
    const out: KubeScoreFinding[] = [];
    for (const o of JSON.parse(r.stdout) as Scored[]) {
      for (const c of o.checks) {
        if (c.skipped || c.grade >= 10) continue;
        const grade = c.grade <= 1 ? 'CRITICAL' : 'WARNING';
        for (const comment of c.comments ?? [{ path: '', summary: '' }]) {
          out.push({ grade, check: c.check.id, line: `${grade} ${o.object_name}: ${c.check.id} ${comment.path} ${comment.summary}`.replace(/ +/g, ' ').trim() });
        }
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The critical findings not in {@link KUBE_SCORE_DELIBERATE}. */
export function undeliberateCritical(findings: readonly KubeScoreFinding[]): string[] {
  return findings.filter((f) => f.grade === 'CRITICAL' && !(f.check in KUBE_SCORE_DELIBERATE)).map((f) => f.line);
}
