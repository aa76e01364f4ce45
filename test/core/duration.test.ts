import { Duration } from '../../lib/core/duration';
import { Cpu, Size } from '../../lib/core/size';

describe('Duration', () => {
  test.each([
    [Duration.minutes(10), '10m', 600],
    [Duration.minutes(90), '1h30m', 5400],
    [Duration.hours(72), '72h', 259200],
    [Duration.days(1), '24h', 86400],
    [Duration.seconds(30), '30s', 30],
    [Duration.millis(1500), '1s500ms', 1.5],
    [Duration.seconds(0), '0s', 0],
  ])('%s is %s, %d seconds', (d, go, seconds) => {
    expect(d.toGoString()).toBe(go);
    expect(d.toSeconds()).toBe(seconds);
  });

  test('granularity and range are checked by the prop that takes it', () => {
    expect(Duration.hours(72)._problems('ttl', Duration.hours(1), Duration.days(365), 'h')).toEqual([]);
    expect(Duration.minutes(90)._problems('ttl', Duration.hours(1), Duration.days(365), 'h')).toEqual([
      expect.objectContaining({ prop: 'ttl', problem: 'is not a whole number of hours' }),
    ]);
    expect(Duration.seconds(0)._problems('period', Duration.seconds(1), Duration.hours(1), 's')[0].problem).toBe('is outside 1s to 1h');
    expect(Duration.seconds(Number.NaN)._problems('period', Duration.seconds(1), Duration.hours(1), 's')[0].problem).toBe('is not a whole number of seconds');
  });
});

describe('Size', () => {
  test.each([
    [Size.mebibytes(64), '64Mi', 64 * 2 ** 20],
    [Size.gibibytes(2), '2Gi', 2 * 2 ** 30],
    [Size.mebibytes(2048), '2Gi', 2 * 2 ** 30],
    [Size.kibibytes(1536), '1536Ki', 1536 * 1024],
    [Size.mebibytes(1.5), '1536Ki', 1536 * 1024],
    [Size.bytes(1000), '1000', 1000],
    [Size.tebibytes(1), '1Ti', 2 ** 40],
  ])('%s renders as %s', (s, q, bytes) => {
    expect(s.toQuantity()).toBe(q);
    expect(s.toBytes()).toBe(bytes);
    expect(s._problems('x')).toEqual([]);
  });

  test.each([Size.bytes(-1), Size.bytes(0.5), Size.gibibytes(Number.POSITIVE_INFINITY)])('%s is refused', (s) => {
    expect(s._problems('tmpSizeLimit')).toEqual([expect.objectContaining({ prop: 'tmpSizeLimit', value: s, problem: 'is not a whole, non-negative number of bytes' })]);
  });
});

describe('Cpu', () => {
  test.each([
    [Cpu.millicores(100), '100m'],
    [Cpu.millicores(1000), '1'],
    [Cpu.cores(3), '3'],
    [Cpu.cores(0.5), '500m'],
  ])('%s renders as %s', (c, q) => expect(c.toQuantity()).toBe(q));

  test.each([Cpu.millicores(-5), Cpu.millicores(0.5), Cpu.cores(Number.NaN)])('%s is refused', (c) => {
    expect(c._problems('cpu')[0].problem).toBe('is not a whole, non-negative number of millicores');
  });
});
