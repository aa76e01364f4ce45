import { AirgapRules, RuleOutcome } from '../../lib/airgap/airgap-rules';

const { FROM_ALLOWED_REGISTRY, PINNED_BY_DIGEST } = AirgapRules;

const D = `sha256:${'e'.repeat(64)}`;
const allowed = ['registry.internal/library', 'registry.internal/distroless'];

describe('PINNED_BY_DIGEST', () => {
  test.each([
    [{ literal: `registry.internal/library/nginx@${D}`, hasReference: false }, RuleOutcome.COMPLIANT],
    [{ literal: `registry.internal/library/nginx:1.27@${D}`, hasReference: false }, RuleOutcome.COMPLIANT],
    [{ literal: 'registry.internal/library/nginx:1.27', hasReference: false }, RuleOutcome.NON_COMPLIANT],
    [{ literal: 'nginx', hasReference: false }, RuleOutcome.NON_COMPLIANT],
    [{ literal: 'registry.internal/app@', hasReference: true }, RuleOutcome.COMPLIANT],
    [{ literal: 'registry.internal/app:', hasReference: true }, RuleOutcome.NOT_APPLICABLE],
    [{ literal: '', hasReference: true }, RuleOutcome.NOT_APPLICABLE],
  ])('%j is %s', (use, outcome) => expect(PINNED_BY_DIGEST.evaluate(use, allowed).outcome).toBe(outcome));
});

describe('FROM_ALLOWED_REGISTRY', () => {
  test.each([
    [{ literal: `registry.internal/library/nginx@${D}`, hasReference: false }, RuleOutcome.COMPLIANT],
    [{ literal: `registry.internal/libraryx/nginx@${D}`, hasReference: false }, RuleOutcome.NON_COMPLIANT],
    [{ literal: `docker.io/library/nginx@${D}`, hasReference: false }, RuleOutcome.NON_COMPLIANT],
    [{ literal: 'registry.internal/distroless/app@', hasReference: true }, RuleOutcome.COMPLIANT],
    [{ literal: '', hasReference: true }, RuleOutcome.NOT_APPLICABLE],
  ])('%j is %s', (use, outcome) => expect(FROM_ALLOWED_REGISTRY.evaluate(use, allowed).outcome).toBe(outcome));

  test('the reason names the allowed registries', () => {
    expect(FROM_ALLOWED_REGISTRY.evaluate({ literal: 'quay.io/x/y:1', hasReference: false }, allowed).reason).toBe(
      'is not from an allowed registry (registry.internal/library, registry.internal/distroless)',
    );
  });
});
