/** Label keys and the label domain the library uses; users may add their own labels beside them. */
export class WellKnownLabels {
  /** `app.kubernetes.io/name`. */
  static readonly NAME = 'app.kubernetes.io/name';
  /** `app.kubernetes.io/instance`. */
  static readonly INSTANCE = 'app.kubernetes.io/instance';
  /** `app.kubernetes.io/component`. */
  static readonly COMPONENT = 'app.kubernetes.io/component';
  /** `app.kubernetes.io/part-of`. */
  static readonly PART_OF = 'app.kubernetes.io/part-of';
  /** `app.kubernetes.io/managed-by`. */
  static readonly MANAGED_BY = 'app.kubernetes.io/managed-by';
  /** The label every namespace carries with its own name (Kubernetes 1.21+). */
  static readonly NAMESPACE_NAME = 'kubernetes.io/metadata.name';
  /** Prefix of the library's own labels and annotations. */
  static readonly DOMAIN = 'airgap-go-constructs.io';

  private constructor() {}
}
