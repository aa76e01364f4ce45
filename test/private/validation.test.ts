import {
  checkDns1035Label,
  checkDns1123Label,
  checkDns1123Subdomain,
  checkEnvVarName,
  checkInteger,
  checkLabelKey,
  checkLabelValue,
  checkPort,
  labelMapProblems,
} from '../../lib/private/validation';

describe('DNS names', () => {
  test.each(['a', 'abc-123', '0abc', 'a'.repeat(63)])('label %j is valid', (v) => expect(checkDns1123Label(v)).toBeUndefined());
  test.each([
    ['', /is empty/],
    ['A', /not a DNS-1123 label/],
    ['-a', /not a DNS-1123 label/],
    ['a-', /not a DNS-1123 label/],
    ['a_b', /not a DNS-1123 label/],
    ['a.b', /not a DNS-1123 label/],
    ['a'.repeat(64), /has 64 characters/],
  ])('label %j is invalid', (v, re) => expect(checkDns1123Label(v)).toMatch(re));
  test('DNS-1035 labels must start with a letter', () => {
    expect(checkDns1035Label('api')).toBeUndefined();
    expect(checkDns1035Label('1api')).toMatch(/starting with a letter/);
  });
  test('subdomains', () => {
    expect(checkDns1123Subdomain('preview.example.internal')).toBeUndefined();
    expect(checkDns1123Subdomain('preview..internal')).toMatch(/not a DNS-1123 subdomain/);
    expect(checkDns1123Subdomain('Preview.internal')).toMatch(/not a DNS-1123 subdomain/);
    expect(checkDns1123Subdomain('a'.repeat(254))).toMatch(/at most 253/);
  });
});

describe('labels', () => {
  test.each(['app', 'app.kubernetes.io/name', 'example.com/a_b.c-d', 'A'])('key %j is valid', (k) => expect(checkLabelKey(k)).toBeUndefined());
  test.each([
    ['', /not a valid label key/],
    ['Example.com/app', /prefix "Example.com"/],
    ['example.com/', /not a valid label key/],
    ['-app', /not a valid label key/],
    ['a'.repeat(64), /not a valid label key/],
    ['a/b/c', /not a valid label key/],
  ])('key %j is invalid', (k, re) => expect(checkLabelKey(k)).toMatch(re));
  test.each(['', 'v1', 'A-b_c.d', 'x'.repeat(63)])('value %j is valid', (v) => expect(checkLabelValue(v)).toBeUndefined());
  test.each([
    ['feature/x', /not a valid label value/],
    ['-x', /not a valid label value/],
    ['x'.repeat(64), /at most 63/],
    ['a b', /not a valid label value/],
  ])('value %j is invalid', (v, re) => expect(checkLabelValue(v)).toMatch(re));
  test('label maps report keys and values separately', () => {
    expect(labelMapProblems('labels', { ok: 'fine', 'bad key!': 'v', team: 'a/b' })).toEqual([
      { prop: 'labels key', value: 'bad key!', problem: expect.stringMatching(/not a valid label key/) },
      { prop: 'labels["team"]', value: 'a/b', problem: expect.stringMatching(/not a valid label value/) },
    ]);
  });
});

describe('env var names, ports and integers', () => {
  test.each(['LOG_LEVEL', '_x', 'a.b-c', 'camelCase'])('env %j is valid', (n) => expect(checkEnvVarName(n)).toBeUndefined());
  test.each(['1ABC', 'A=B', 'A B', '', 'ÄB'])('env %j is invalid', (n) => expect(checkEnvVarName(n)).toMatch(/not a valid environment variable name/));
  test.each([1, 80, 65535])('port %j is valid', (p) => expect(checkPort(p)).toBeUndefined());
  test.each([0, -1, 65536, 80.5, NaN])('port %j is invalid', (p) => expect(checkPort(p)).toMatch(/from 1 to 65535/));
  test('integers', () => {
    expect(checkInteger(3, 0, 10)).toBeUndefined();
    expect(checkInteger(1.5, 0, 10)).toMatch(/not a whole number/);
    expect(checkInteger(-1, 0, 10)).toMatch(/outside 0 to 10/);
  });
});
