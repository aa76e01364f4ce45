/** How the builder stage gets the module's dependencies. */
export enum ModuleSourceKind {
  /** From the module's own `vendor/` folder (`-mod=vendor`). */
  VENDOR = 'vendor',
  /** From a Go module proxy, and nowhere else (`GOPROXY=<url>,off`). */
  PROXY = 'proxy',
  /** Nowhere: the module has no dependencies (`GOPROXY=off`). */
  NONE = 'none',
}

/** Options for {@link ModuleSource.proxy}. */
export interface ProxyModuleSourceOptions {
  /**
   * `GOSUMDB` for the build, such as the offline mirror's sumdb path.
   * @default - Go's default; with a complete go.sum no checksum database is contacted
   */
  readonly sumdb?: string;
  /**
   * Module path patterns not checked against the checksum database (`GONOSUMDB`),
   * for private modules.
   * @default - none
   */
  readonly noSumdb?: string[];
}

/**
 * Where the builder gets modules. Every choice is offline by construction: no
 * `direct` fallback, so a missing module fails the build instead of reaching out.
 */
export class ModuleSource {
  /** The module's `vendor/` folder; the build runs with `-mod=vendor`. */
  static vendor(): ModuleSource {
    return new ModuleSource(ModuleSourceKind.VENDOR);
  }

  /**
   * A Go module proxy such as the OfflineMirror sidecar, followed by `,off`.
   * Modules are downloaded in their own layer before the source is copied, so a
   * source-only change reuses it.
   */
  static proxy(url: string, options: ProxyModuleSourceOptions = {}): ModuleSource {
    return new ModuleSource(ModuleSourceKind.PROXY, url, options);
  }

  /** No dependencies at all; any import outside the standard library fails the build. */
  static none(): ModuleSource {
    return new ModuleSource(ModuleSourceKind.NONE);
  }

  private constructor(
    /** Which kind of source this is. */
    public readonly kind: ModuleSourceKind,
    /** Proxy URL, for PROXY. */
    public readonly proxyUrl?: string,
    /** Proxy options, for PROXY. */
    public readonly proxyOptions: ProxyModuleSourceOptions = {},
  ) {}
}
