import { BaseImage } from '../../lib/image/base-image';
import { RegistryMirror } from '../../lib/core/registry-mirror';

const DIGEST = `sha256:${'d'.repeat(64)}`;

describe('BaseImage', () => {
  test('stock images are pinned by their cited digests', () => {
    expect(BaseImage.distrolessStatic().reference).toBe(`gcr.io/distroless/static-debian13:nonroot@${BaseImage.DISTROLESS_STATIC_DIGEST}`);
    expect(BaseImage.golang().reference).toBe(`docker.io/library/golang:1.26-bookworm@${BaseImage.GOLANG_DIGEST}`);
    for (const digest of [BaseImage.DISTROLESS_STATIC_DIGEST, BaseImage.GOLANG_DIGEST]) expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(BaseImage.distrolessStatic()._problems('runtime')).toEqual([]);
    expect(BaseImage.golang({ digest: DIGEST }).reference).toBe(`docker.io/library/golang:1.26-bookworm@${DIGEST}`);
  });

  test('a mirror moves the reference and keeps the digest', () => {
    const mirror = RegistryMirror.of({ 'gcr.io/distroless': '127.0.0.1:5000/distroless' });
    expect(BaseImage.distrolessStatic({ digest: DIGEST }).resolve(mirror)).toBe(`127.0.0.1:5000/distroless/static-debian13:nonroot@${DIGEST}`);
    expect(BaseImage.distrolessStatic({ digest: DIGEST }).resolve()).toBe(`gcr.io/distroless/static-debian13:nonroot@${DIGEST}`);
  });

  test('a base without a digest is an error with a fix', () => {
    expect(BaseImage.fromReference('registry.internal/library/golang:1.26')._problems('builder')).toEqual([
      {
        prop: 'builder',
        value: 'registry.internal/library/golang:1.26',
        problem: 'is not pinned by digest',
        fix: expect.stringContaining('BaseImage.unpinned(ref, "<why>")'),
      },
    ]);
  });

  test('the named opt-out allows a tag, with a real reason', () => {
    expect(BaseImage.unpinned('registry.internal/library/golang:1.26', 'internal golden image is re-tagged nightly')._problems('builder')).toEqual([]);
    expect(BaseImage.unpinned('registry.internal/library/golang:1.26', 'lazy')._problems('builder')).toEqual([
      expect.objectContaining({ prop: 'builder (unpinned reason)', problem: 'is shorter than 10 characters' }),
    ]);
  });

  test('an unparseable base is reported', () => {
    expect(BaseImage.fromReference('golang')._problems('builder')[0].problem).toContain('names no registry host');
  });
});
