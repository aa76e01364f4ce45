import { RegistryMirror } from '../../lib/core/registry-mirror';

const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('RegistryMirror', () => {
  const mirror = RegistryMirror.of({
    'docker.io': 'registry.internal/dockerhub',
    'docker.io/library': 'registry.internal/library',
    'gcr.io/distroless/': '127.0.0.1:5000/distroless',
  });

  test.each([
    [`docker.io/library/golang:1.26-bookworm@${DIGEST}`, `registry.internal/library/golang:1.26-bookworm@${DIGEST}`],
    ['docker.io/bitnami/redis:7', 'registry.internal/dockerhub/bitnami/redis:7'],
    [`gcr.io/distroless/static-debian13:nonroot@${DIGEST}`, `127.0.0.1:5000/distroless/static-debian13:nonroot@${DIGEST}`],
    ['docker.io/libraryx/app:1', 'registry.internal/dockerhub/libraryx/app:1'],
    ['quay.io/prometheus/node-exporter:v1', 'quay.io/prometheus/node-exporter:v1'],
    ['gcr.io/distrolessx/a:1', 'gcr.io/distrolessx/a:1'],
  ])('%s -> %s', (from, to) => expect(mirror.rewrite(from)).toBe(to));

  test('longest prefix first, trailing slashes ignored', () => {
    expect(mirror.rules.map((r) => r.from)).toEqual(['docker.io/library', 'gcr.io/distroless', 'docker.io']);
    expect(mirror.ruleFor('docker.io/library/x:1')?.to).toBe('registry.internal/library');
    expect(mirror.ruleFor('ghcr.io/x/y:1')).toBeUndefined();
  });

  test('bad prefixes are reported', () => {
    expect(RegistryMirror.of({ 'Docker.IO/Library': 'registry.internal/library' })._problems('mirror')).toEqual([
      {
        prop: 'mirror["Docker.IO/Library"]',
        value: 'Docker.IO/Library',
        problem: expect.stringContaining('has the source "Docker.IO/Library", which has the repository path component "Library"'),
        fix: expect.stringContaining('registry.host'),
      },
    ]);
    expect(RegistryMirror.of({ 'gcr.io': 'mirror' })._problems('mirror')[0].problem).toContain('has the target "mirror", which starts with "mirror", which is not a registry host');
    expect(mirror._problems('mirror')).toEqual([]);
  });
});
