import { ModuleSource, ModuleSourceKind } from '../../lib/image/module-source';

describe('ModuleSource', () => {
  test('factories carry their kind and options', () => {
    expect(ModuleSource.vendor().kind).toBe(ModuleSourceKind.VENDOR);
    expect(ModuleSource.none().kind).toBe(ModuleSourceKind.NONE);
    const proxy = ModuleSource.proxy('http://127.0.0.1:3000', { sumdb: 'sum.golang.org http://127.0.0.1:3000/sumdb/sum.golang.org', noSumdb: ['corp.internal/*'] });
    expect(proxy.kind).toBe(ModuleSourceKind.PROXY);
    expect(proxy.proxyUrl).toBe('http://127.0.0.1:3000');
    expect(proxy.proxyOptions.noSumdb).toEqual(['corp.internal/*']);
  });
});
