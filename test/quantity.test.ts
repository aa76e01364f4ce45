import { checkQuantity, parseQuantity, QuantityKind, requestLimitProblems } from '../lib/quantity';

describe('parseQuantity', () => {
  test.each([
    ['1.5', 1.5],
    ['500m', 0.5],
    ['2Gi', 2 * 2 ** 30],
    ['128Mi', 128 * 2 ** 20],
    ['1e3', 1000],
    ['1E3', 1000],
    ['1E', 1e18],
    ['2k', 2000],
    ['.5', 0.5],
    ['5.', 5],
    ['+1', 1],
    ['-1', -1],
    ['100n', 100e-9],
  ])('%j = %d', (text, value) => expect(parseQuantity(text)).toBeCloseTo(value, 12));

  test.each(['2GB', 'abc', '', '1.2.3', '1 Gi', 'Gi', '1gi', '0x10', '1e', '5Ki2'])('%j is not a quantity', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('checkQuantity', () => {
  test.each(['1.5', '500m', '2'])('cpu %j is valid', (q) => expect(checkQuantity(q, QuantityKind.CPU)).toBeUndefined());
  test.each(['2Gi', '128Mi', '1G'])('memory %j is valid', (q) => expect(checkQuantity(q, QuantityKind.MEMORY)).toBeUndefined());
  test.each([
    ['2GB', /not a Kubernetes quantity/],
    ['abc', /not a Kubernetes quantity/],
    ['-1', /is negative/],
  ])('%j is invalid', (q, re) => expect(checkQuantity(q, QuantityKind.CPU)).toMatch(re));
  test('memory must be whole bytes and counts whole numbers', () => {
    expect(checkQuantity('500m', QuantityKind.MEMORY)).toMatch(/fraction of a byte/);
    expect(checkQuantity('1.5', QuantityKind.COUNT)).toMatch(/not a whole number/);
  });
});

describe('requestLimitProblems', () => {
  test('a request above its limit is one problem naming both', () => {
    expect(requestLimitProblems('resources.cpu', '2', '500m', QuantityKind.CPU)).toEqual([
      expect.objectContaining({ prop: 'resources.cpu.request', value: '2', problem: 'is greater than limit "500m"' }),
    ]);
  });
  test('units are compared, not text', () => {
    expect(requestLimitProblems('m', '1Gi', '1024Mi', QuantityKind.MEMORY)).toEqual([]);
    expect(requestLimitProblems('m', '1025Mi', '1Gi', QuantityKind.MEMORY)).toHaveLength(1);
    expect(requestLimitProblems('c', '0.5', '500m', QuantityKind.CPU)).toEqual([]);
  });
  test('bad quantities are reported before any comparison', () => {
    const problems = requestLimitProblems('resources.memory', '2GB', '-1', QuantityKind.MEMORY);
    expect(problems.map((p) => p.prop)).toEqual(['resources.memory.request', 'resources.memory.limit']);
    expect(problems[0].fix).toMatch(/"128Mi"/);
  });
});
