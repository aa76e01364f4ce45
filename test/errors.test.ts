import { App } from 'cdktf';
import { Construct } from 'constructs';
import { AirgapError, describeValue, PropChecker } from '../lib/errors';

describe('AirgapError', () => {
  test('names the path, the kind, the prop, the value, what is wrong and the fix', () => {
    const e = new AirgapError('stack/env/api', 'GoService', [
      { prop: 'resources.cpu.request', value: '2GB', problem: 'is not a Kubernetes quantity', fix: 'Use "500m".' },
    ]);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AirgapError');
    expect(e.message).toBe('stack/env/api (GoService): prop "resources.cpu.request" is "2GB", which is not a Kubernetes quantity. Use "500m".');
    expect(e.constructPath).toBe('stack/env/api');
    expect(e.problems).toHaveLength(1);
  });

  test('lists every problem, one per line', () => {
    const e = new AirgapError('p', 'K', [
      { prop: 'a', value: 1, problem: 'x', fix: 'f.' },
      { prop: 'b', value: 2, problem: 'y', fix: 'g.' },
    ]);
    expect(e.message.split('\n')).toEqual(['p (K): prop "a" is 1, which x. f.', 'p (K): prop "b" is 2, which y. g.']);
  });

  test('values keep what made them bad', () => {
    expect(describeValue(' a"b ')).toBe('" a\\"b "');
    expect(describeValue(-1)).toBe('-1');
    expect(describeValue(['X'])).toBe('["X"]');
    expect(describeValue(undefined)).toBe('undefined');
  });
});

describe('PropChecker', () => {
  test('discard removes the half-made construct before throwing', () => {
    const app = new App();
    const parent = new Construct(app, 'parent');
    const child = new Construct(parent, 'child');
    const c = new PropChecker(child, 'Thing');
    c.check('x', 1, undefined, 'unused');
    c.check('y', 2, 'is wrong', 'Fix it.');
    expect(() => c.throwIfAny({ discard: true })).toThrow('parent/child (Thing): prop "y" is 2, which is wrong. Fix it.');
    expect(parent.node.tryFindChild('child')).toBeUndefined();
  });

  test('without discard the construct stays, and a clean checker does not throw', () => {
    const app = new App();
    const thing = new Construct(app, 'thing');
    expect(() => new PropChecker(thing, 'Thing').throwIfAny({ discard: true })).not.toThrow();
    const c = new PropChecker(thing, 'Thing');
    c.fail('z', 'v', 'is bad', 'Fix.');
    expect(() => c.throwIfAny()).toThrow(AirgapError);
    expect(app.node.tryFindChild('thing')).toBe(thing);
  });
});
