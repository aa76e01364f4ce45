import { App } from 'cdktf';
import { Construct } from 'constructs';
import { AirgapError, describeValue } from '../../lib/core/errors';
import { PropChecker } from '../../lib/private/prop-checker';
import { Duration } from '../../lib/core/duration';
import { Size } from '../../lib/core/size';

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

  test('is an Error at run time, with a stack, yet recognised by its symbol, not by instanceof', () => {
    const e = new AirgapError('p', 'K', [{ prop: 'a', value: 1, problem: 'x', fix: 'f.' }]);
    expect(e.stack).toContain('errors.test.ts');
    expect(String(e)).toBe(`AirgapError: ${e.message}`);
    expect(AirgapError.isAirgapError(e)).toBe(true);
    for (const other of [new Error('p (K): prop'), { message: 'x', name: 'AirgapError' }, null, undefined, 'AirgapError']) {
      expect(AirgapError.isAirgapError(other)).toBe(false);
    }
    expect(() => {
      throw e;
    }).toThrow(/prop "a" is 1/);
  });

  test("two copies of the package recognise each other's errors", () => {
    let Other: typeof AirgapError | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      Other = (require('../../lib/core/errors') as { AirgapError: typeof AirgapError }).AirgapError;
    });
    expect(Other).toBeDefined();
    expect(Other).not.toBe(AirgapError);
    const e = new (Other as typeof AirgapError)('p', 'K', []);
    expect(e instanceof AirgapError).toBe(false);
    expect(AirgapError.isAirgapError(e)).toBe(true);
  });

  test('values keep what made them bad', () => {
    expect(describeValue(Duration.hours(72))).toBe('Duration.hours(72)');
    expect(describeValue(Size.mebibytes(64))).toBe('Size.mebibytes(64)');
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
