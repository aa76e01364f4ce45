import { AirgapError } from '../../lib/core/errors';
import { ImageReference } from '../../lib/core/image-reference';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('ImageReference.parse', () => {
  test.each([
    ['registry.internal/team/app:1.2.3', { registry: 'registry.internal', repository: 'team/app', tag: '1.2.3', digest: undefined }],
    [`registry.internal/app@${DIGEST}`, { registry: 'registry.internal', repository: 'app', tag: undefined, digest: DIGEST }],
    [`127.0.0.1:5000/distroless/static-debian13:nonroot@${DIGEST}`, { registry: '127.0.0.1:5000', repository: 'distroless/static-debian13', tag: 'nonroot', digest: DIGEST }],
    ['localhost/app:v1', { registry: 'localhost', repository: 'app', tag: 'v1', digest: undefined }],
    ['gcr.io/distroless/static-debian13:nonroot', { registry: 'gcr.io', repository: 'distroless/static-debian13', tag: 'nonroot', digest: undefined }],
    ['[::1]:5000/a/b__c.d-e:x', { registry: '[::1]:5000', repository: 'a/b__c.d-e', tag: 'x', digest: undefined }],
  ])('%s parses', (text, parts) => {
    const r = ImageReference.parse(text);
    expect({ registry: r.registry, repository: r.repository, tag: r.tag, digest: r.digest }).toEqual(parts);
    expect(r.toString()).toBe(text);
    expect(r.pinned).toBe(parts.digest !== undefined);
    expect(ImageReference.tryParse(text)?.toString()).toBe(text);
    expect(ImageReference.problemOf(text)).toBeUndefined();
  });

  test.each([
    ['', /is empty/],
    ['nginx:1.27', /names no registry host/],
    ['library/nginx:1.27', /starts with "library", which is not a registry host/],
    ['registry.internal/app', /neither a tag nor a digest/],
    ['registry.internal/App:1', /path component "App"/],
    ['registry.internal/app:-bad', /has the tag "-bad"/],
    ['registry.internal/app@sha256:abc', /has the digest "sha256:abc"/],
    [`registry.internal/app@md5:${'a'.repeat(32)}`, /not "sha256:" followed by 64/],
    ['registry.internal/app :1', /white space/],
    ['registry.internal//app:1', /path component ""/],
    ['bad_host.io/app:1', /registry "bad_host.io"/],
    [`registry.internal/${'a'.repeat(250)}:1`, /at most 255/],
  ])('%j is rejected', (text, re) => {
    expect(ImageReference.problemOf(text)).toMatch(re);
    expect(ImageReference.tryParse(text)).toBeUndefined();
    let thrown: unknown;
    try {
      ImageReference.parse(text);
    } catch (e) {
      thrown = e;
    }
    expect(AirgapError.isAirgapError(thrown)).toBe(true);
    expect((thrown as AirgapError).message).toMatch(re);
    expect((thrown as AirgapError).problems[0].prop).toBe('text');
  });
});
